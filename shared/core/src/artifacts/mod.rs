//! Artifact path selection (globs, base-directory, discard-paths, exclude-paths) and the S3 key layout.

mod glob;
mod keys;
mod select;

pub use glob::Pattern;
pub use keys::{
    ArtifactLayout, ArtifactSettings, ArtifactsError, LOCAL_DEFAULT_BUCKET, Namespace, Packaging,
    artifact_type_enabled,
};
pub use select::{EntryKind, Selected, SelectedFile, Selection, select};
