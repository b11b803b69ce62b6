//! The build description: what a [`crate::ports::TaskRunner`] hands the agent, the one
//! document a Fargate task, a child process and an in-process run all start from.
//!
//! It holds no secret value and no credential: secret variables stay references
//! (`parameter-store`, `secrets-manager`, the project's `PARAMETER_STORE` and `SECRETS_MANAGER`
//! variables) that the agent resolves through its `SecretStore`, and only when
//! [`BuildDescription::with_secrets`] allows. Everything else the agent needs to run the build
//! the same way anywhere is here; where it runs (directories, which stores) is the runner's and
//! the agent binary's configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::env::HomeMode;
use super::identity::BuildIdentity;
use super::name_value::NameValue;
use super::record::{Build, SourceSpec};
use crate::project::Project;

/// The format of build descriptions; bumped when their shape changes. An agent refuses a
/// description of another format rather than guess.
pub const DESCRIPTION_FORMAT: u32 = 1;

/// One build, as handed to the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDescription {
    /// [`DESCRIPTION_FORMAT`].
    pub kiln_description_format: u32,
    /// Who the build is.
    pub build: BuildIdentity,
    /// The project's settings (artifacts, caches, variables, the buildspec setting).
    pub project: Project,
    /// Where the source comes from.
    pub source: SourceSpec,
    /// `buildspecOverride`: a path in the source or an inline buildspec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildspec_override: Option<String>,
    /// `CODEBUILD_SOURCE_VERSION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// `CODEBUILD_RESOLVED_SOURCE_VERSION`, when known before the fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_source_version: Option<String>,
    /// `CODEBUILD_INITIATOR`.
    pub initiator: String,
    /// `CODEBUILD_START_TIME`, epoch milliseconds.
    pub start_time_ms: i64,
    /// `CODEBUILD_BUILD_IMAGE`.
    pub image: String,
    /// The build's timeout, counted from [`BuildDescription::start_time_ms`].
    pub timeout_seconds: u64,
    /// Whether the agent may resolve secret variables.
    pub with_secrets: bool,
    /// Built-in variables beyond the derived ones (`CODEBUILD_WEBHOOK_*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builtin_variables: Vec<NameValue>,
    /// `environmentVariablesOverride`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_variables_override: Vec<NameValue>,
    /// Which `HOME` commands see: `/root` in a container, the user's own locally.
    pub home: HomeMode,
    /// The directory the build lives in (its source and private state); `None` for
    /// CodeBuild's layout in a container (`/codebuild/output/src<n>/src`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PathBuf>,
}

impl BuildDescription {
    /// The description of `build` of `project`, for a container (`HOME=/root`, CodeBuild's
    /// directory layout). Local runners set [`BuildDescription::home`] and
    /// [`BuildDescription::workspace`] to their own.
    pub fn of(build: &Build, project: &Project) -> Self {
        Self {
            kiln_description_format: DESCRIPTION_FORMAT,
            build: build.identity.clone(),
            project: project.clone(),
            source: build.source.clone(),
            buildspec_override: build.buildspec_override.clone(),
            source_version: build.source_version.clone(),
            resolved_source_version: build.resolved_source_version.clone(),
            initiator: build.initiator.clone(),
            start_time_ms: build.start_time,
            image: build.environment.image.clone(),
            timeout_seconds: build.timeout_seconds,
            with_secrets: build.with_secrets,
            builtin_variables: build.builtin_variables.clone(),
            environment_variables_override: build.environment_variables_override.clone(),
            home: HomeMode::Root,
            workspace: None,
        }
    }

    /// Reads a description, refusing one of another format.
    ///
    /// # Errors
    /// [`DescriptionError`] when the text is not a description of [`DESCRIPTION_FORMAT`].
    pub fn from_json(text: &[u8]) -> Result<Self, DescriptionError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            kiln_description_format: Option<u32>,
        }
        let probe: Probe = serde_json::from_slice(text).map_err(DescriptionError::Json)?;
        match probe.kiln_description_format {
            Some(DESCRIPTION_FORMAT) => {
                let mut de = serde_json::Deserializer::from_slice(text);
                serde_path_to_error::deserialize(&mut de).map_err(|e| DescriptionError::Field {
                    path: e.path().to_string(),
                    source: e.into_inner(),
                })
            }
            Some(found) => Err(DescriptionError::Format(found)),
            None => Err(DescriptionError::NoFormat),
        }
    }
}

/// Why a build description could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DescriptionError {
    /// Not JSON.
    #[error("read the build description as JSON")]
    Json(#[source] serde_json::Error),
    /// No `kilnDescriptionFormat`.
    #[error("not a build description: kilnDescriptionFormat is missing")]
    NoFormat,
    /// Another format.
    #[error(
        "build description format {0} is not supported (this agent reads format {DESCRIPTION_FORMAT})"
    )]
    Format(u32),
    /// A field is wrong.
    #[error("build description field {path}")]
    Field {
        /// The field's path.
        path: String,
        /// What is wrong.
        #[source]
        source: serde_json::Error,
    },
}
