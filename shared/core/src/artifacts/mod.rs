//! Artifact path selection (globs, base-directory, discard-paths, exclude-paths) over entries
//! the agent lists, path clean-up, and the S3 key layout. Nothing here touches the file
//! system.

mod glob;
mod keys;
mod listing;
mod paths;
mod select;

pub use glob::Pattern;
pub use keys::{
    ArtifactLayout, ArtifactSettings, ArtifactsError, LOCAL_DEFAULT_BUCKET, Namespace, Packaging,
    artifact_type_enabled,
};
pub use listing::{LinkLeads, Listed, ListedKind, Refused, RefusedReason};
pub use paths::{clean_relative, link_stays_inside};
pub use select::{EntryKind, Selected, SelectedFile, Selection, Selector};
