//! The boundary with the phase runner: what UPLOAD_ARTIFACTS needs and what it produces. The
//! two entry points that use these types are in `phase.rs`, so dependencies point one way:
//! `phase` → `artifacts`, `cache`, `reports` → `boundary`.

use std::path::Path;

use kiln_core::build::BuildIdentity;
use kiln_core::buildspec::Buildspec;
use kiln_core::ports::ObjectStore;
use kiln_core::project::Project;
use kiln_core::reports::Report;
use serde::Serialize;

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
    /// When the build times out: name and key evaluations end then.
    pub deadline: Option<std::time::Instant>,
    /// The build's stop flag: name and key evaluations end when it is set.
    pub stop: &'a crate::shell::StopFlag,
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

impl UploadStatus {
    /// A CLIENT_ERROR failure with `message`.
    pub fn client_error(message: impl Into<String>) -> Self {
        Self::Failed { status_code: "CLIENT_ERROR".to_owned(), message: message.into() }
    }
}

/// What UPLOAD_ARTIFACTS produced, for the build summary.
#[derive(Debug, Clone, Default)]
pub struct UploadOutcome {
    /// The phase's status.
    pub status: UploadStatus,
    /// The primary artifact: `location` and, for ZIP, checksums (BatchGetBuilds field names).
    pub artifacts: Option<ArtifactSummary>,
    /// The secondary artifacts, in the same shape.
    pub secondary_artifacts: Vec<ArtifactSummary>,
    /// Reports in the shape of BatchGetReports `Report`.
    pub reports: Vec<Report>,
}

/// One artifact in the build summary (BatchGetBuilds `BuildArtifacts` field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactSummary {
    /// `s3://bucket/key` (the folder key for packaging NONE).
    pub location: String,
    /// Hex SHA-256 of the ZIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256sum: Option<String>,
    /// Hex MD5 of the ZIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5sum: Option<String>,
    /// The identifier of a secondary artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_identifier: Option<String>,
}
