//! One build, start to end: DOWNLOAD_SOURCE (source, buildspec, secrets), the cache restore,
//! the buildspec phases, UPLOAD_ARTIFACTS, FINALIZING, and the summary.

mod download;
mod run;
mod workspace;

pub use download::{DownloadError, MAX_BUILDSPEC_BYTES, SecretError};
pub use run::{Agent, AgentPorts, now_ms, run};
pub use workspace::Workspace;
