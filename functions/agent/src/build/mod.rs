//! One build, start to end: DOWNLOAD_SOURCE (buildspec, secrets), the cache restore, the
//! buildspec phases, UPLOAD_ARTIFACTS, FINALIZING, and the summary.

mod download;
mod request;
mod run;
mod summary;

pub use download::{BuildspecSource, DownloadError};
pub use request::{BuildRequest, Ports};
pub use run::{now_ms, run_build};
pub use summary::BuildSummary;
