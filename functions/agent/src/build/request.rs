//! What a build needs: the description of one build and the ports it talks to.

use std::path::PathBuf;
use std::time::Duration;

use kiln_core::build::{BuildIdentity, HomeMode};
use kiln_core::ports::{ObjectStore, SecretStore};
use kiln_core::project::Project;

use super::download::BuildspecSource;

/// The default build image name, for `CODEBUILD_BUILD_IMAGE` when the project names none.
pub const DEFAULT_IMAGE: &str = "aws/codebuild/amazonlinux-x86_64-standard:5.0";

/// The description of one build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The project's settings (passed whole to UPLOAD_ARTIFACTS).
    pub project: Project,
    /// Who the build is.
    pub identity: BuildIdentity,
    /// The build's working copy: `CODEBUILD_SRC_DIR`, where commands start.
    pub src_dir: PathBuf,
    /// Where the buildspec comes from.
    pub buildspec: BuildspecSource,
    /// The lowest environment layer: the image's, or the user's for a local run.
    pub base_env: Vec<(String, String)>,
    /// Start-build overrides (`kiln run --env`), the highest layer.
    pub overrides: Vec<(String, String)>,
    /// More built-in variables (`CODEBUILD_WEBHOOK_*`).
    pub builtins: Vec<(String, String)>,
    /// Which `HOME` commands see.
    pub home: HomeMode,
    /// `CODEBUILD_START_TIME`, epoch milliseconds.
    pub start_ms: i64,
    /// `CODEBUILD_SOURCE_VERSION`.
    pub source_version: Option<String>,
    /// `CODEBUILD_RESOLVED_SOURCE_VERSION`.
    pub resolved_source_version: Option<String>,
    /// `CODEBUILD_INITIATOR`.
    pub initiator: String,
    /// The build timeout, counted from the start.
    pub timeout: Duration,
    /// A private directory for the shell's state.
    pub state_dir: PathBuf,
}

impl BuildRequest {
    /// `CODEBUILD_BUILD_IMAGE`: the project's `environment.image`, or [`DEFAULT_IMAGE`].
    pub fn image(&self) -> String {
        self.project
            .environment
            .as_ref()
            .and_then(|e| e.image.clone())
            .unwrap_or_else(|| DEFAULT_IMAGE.to_owned())
    }
}

/// The ports a build talks to.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    /// Where artifacts, reports and caches go.
    pub store: &'a dyn ObjectStore,
    /// Where parameter-store and secrets-manager values come from.
    pub secrets: &'a dyn SecretStore,
}

impl std::fmt::Debug for Ports<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}
