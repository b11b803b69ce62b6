//! Around the phases: cache restore before INSTALL, and UPLOAD_ARTIFACTS (artifacts, reports,
//! cache save) after POST_BUILD.
//!
//! The agent's phase runner calls [`restore_cache`] once after DOWNLOAD_SOURCE and [`upload`]
//! when the phase table says UPLOAD_ARTIFACTS runs. Both write their log lines (without the
//! `[Container] <time>` prefix, which the caller adds) through `log`.

pub mod archive;
mod artifacts;
mod boundary;
mod cache;
mod hash_files;
mod phase;
mod reports;
pub mod shell;
pub mod walk;
pub mod zip;

pub use boundary::{ArtifactSummary, UploadInput, UploadOutcome, UploadStatus};
pub use hash_files::{TOOL_NAMES, hash_files, hash_files_main, install_tools};
pub use phase::{restore_cache, upload};
pub use reports::report_prefix;
