//! Around the phases: cache restore before INSTALL, and UPLOAD_ARTIFACTS (artifacts, reports,
//! cache save) after POST_BUILD.
//!
//! The agent's phase runner calls [`restore_cache`] once after DOWNLOAD_SOURCE and [`upload`]
//! when the phase table says UPLOAD_ARTIFACTS runs. Both write their log lines (without the
//! `[Container] <time>` prefix, which the caller adds) through `log`.

pub mod zip;

use std::path::Path;

use kiln_core::build::BuildIdentity;
use kiln_core::buildspec::Buildspec;
use kiln_core::ports::ObjectStore;
use kiln_core::project::Project;

/// What UPLOAD_ARTIFACTS and the cache need to know about the build.
#[derive(Clone, Copy)]
pub struct UploadInput<'a> {
    /// The parsed buildspec.
    pub buildspec: &'a Buildspec,
    /// The project settings (artifacts, secondaryArtifacts, cache).
    pub project: &'a Project,
    /// The build's identity (id, ARN, number).
    pub build: &'a BuildIdentity,
    /// The build's working copy, `CODEBUILD_SRC_DIR`.
    pub src_dir: &'a Path,
    /// The build's environment at this moment, for shell evaluation of `artifacts.name`
    /// and `cache.key`.
    pub env: &'a [(String, String)],
    /// The shell program that evaluates names and keys (`sh` or `bash`).
    pub shell: &'a str,
    /// Where objects go.
    pub store: &'a dyn ObjectStore,
}

impl std::fmt::Debug for UploadInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadInput")
            .field("build", &self.build.id())
            .field("src_dir", &self.src_dir)
            .finish_non_exhaustive()
    }
}

/// How UPLOAD_ARTIFACTS ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum UploadStatus {
    /// Everything required was uploaded.
    #[default]
    Succeeded,
    /// The phase failed, with CodeBuild's phase-context status code and message
    /// (`CLIENT_ERROR`, `no matching artifact paths found`).
    Failed {
        /// The status code.
        status_code: String,
        /// The message.
        message: String,
    },
}

/// What UPLOAD_ARTIFACTS produced, for the build summary.
#[derive(Debug, Clone, Default)]
pub struct UploadOutcome {
    /// The phase's status.
    pub status: UploadStatus,
    /// The primary artifact: `location` and, for ZIP, checksums (BatchGetBuilds field names).
    pub artifacts: Option<serde_json::Value>,
    /// The secondary artifacts, in the same shape.
    pub secondary_artifacts: Vec<serde_json::Value>,
    /// Reports in the shape of BatchGetReports `Report`.
    pub reports: Vec<serde_json::Value>,
}

/// Restores the build cache into place. Every failure is a warning in the log, never an error.
pub async fn restore_cache(input: &UploadInput<'_>, log: &mut (dyn FnMut(String) + Send)) {
    let _ = (input, log);
}

/// Runs UPLOAD_ARTIFACTS: artifacts, secondary artifacts, reports and the cache save.
pub async fn upload(
    input: &UploadInput<'_>,
    log: &mut (dyn FnMut(String) + Send),
) -> UploadOutcome {
    let _ = (input, log);
    UploadOutcome::default()
}
