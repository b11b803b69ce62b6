//! The build summary: what the agent hands back when a build ends, in the field names of
//! CodeBuild's `BatchGetBuilds` `Build` (timestamps as the AWS CLI prints them), with the
//! build's test reports in the shape of `BatchGetReports` `Report`.
//!
//! `kiln run --summary` writes it, `GET /api/builds/{project}/{number}` serves it, and the
//! finalizer reads it back to decide the build's final status; secret values never appear in it
//! (the agent masks exported variables and context messages as it masks the log).

use serde::{Deserialize, Serialize};

use super::identity::BuildIdentity;
use super::name_value::NameValue;
use super::phase::{PhaseRecord, PhaseType, Status};
use crate::reports::Report;

/// The format of build summaries; bumped when their shape changes.
pub const SUMMARY_FORMAT: u32 = 1;

/// One artifact as BatchGetBuilds shows it (`artifacts`, each of `secondaryArtifacts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildArtifacts {
    /// Where it went: `arn:aws:s3:::bucket/key` (the folder for packaging NONE).
    pub location: String,
    /// Hex SHA-256 of the ZIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256sum: Option<String>,
    /// Hex MD5 of the ZIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5sum: Option<String>,
    /// The identifier of a secondary artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_identifier: Option<String>,
    /// Where it is on this machine, for a local build (kiln's own field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_path: Option<String>,
}

/// `environment` as BatchGetBuilds shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryEnvironment {
    /// The image.
    pub image: String,
    /// `computeType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_type: Option<String>,
    /// `type`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub environment_type: Option<String>,
}

/// `logs` as BatchGetBuilds shows it, with where kiln keeps the log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildLogs {
    /// CloudWatch Logs group, in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// CloudWatch Logs stream, in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_name: Option<String>,
    /// A link to the log: the build page's log in the cloud, a `file://` URL locally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_link: Option<String>,
    /// The archived log's object (`arn:aws:s3:::bucket/key`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_logs_arn: Option<String>,
}

/// What a build did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildSummary {
    /// [`SUMMARY_FORMAT`].
    pub kiln_summary_format: u32,
    /// `<project>:<uuid>`.
    pub id: String,
    /// The build's ARN.
    pub arn: String,
    /// The per-project number.
    pub build_number: u64,
    /// When the build started.
    #[serde(with = "super::timestamp::iso")]
    pub start_time: i64,
    /// When it ended.
    #[serde(with = "super::timestamp::iso")]
    pub end_time: i64,
    /// `COMPLETED` once the build is over.
    pub current_phase: PhaseType,
    /// The final status.
    pub build_status: Status,
    /// The project.
    pub project_name: String,
    /// `sourceVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// `resolvedSourceVersion`: the commit built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_source_version: Option<String>,
    /// `initiator`.
    pub initiator: String,
    /// Always true in a summary.
    pub build_complete: bool,
    /// The timeout in effect, in minutes (rounded up).
    pub timeout_in_minutes: u64,
    /// The environment.
    pub environment: SummaryEnvironment,
    /// Every phase, SUBMITTED to COMPLETED.
    pub phases: Vec<PhaseRecord>,
    /// The primary artifact, when one was uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<BuildArtifacts>,
    /// The secondary artifacts.
    #[serde(default)]
    pub secondary_artifacts: Vec<BuildArtifacts>,
    /// `env.exported-variables` with their values at the end of the build (masked).
    #[serde(default)]
    pub exported_environment_variables: Vec<NameValue>,
    /// The build's logs.
    #[serde(default)]
    pub logs: BuildLogs,
    /// Test and coverage reports, BatchGetReports `Report` shape.
    #[serde(default)]
    pub reports: Vec<Report>,
}

impl BuildSummary {
    /// An empty summary of `build` (no phases yet) with `status`, ended at `end_time`.
    pub fn new(build: &BuildIdentity, status: Status, start_time: i64, end_time: i64) -> Self {
        Self {
            kiln_summary_format: SUMMARY_FORMAT,
            id: build.id(),
            arn: build.arn(),
            build_number: build.number,
            start_time,
            end_time,
            current_phase: PhaseType::Completed,
            build_status: status,
            project_name: build.project.clone(),
            source_version: None,
            resolved_source_version: None,
            initiator: String::new(),
            build_complete: true,
            timeout_in_minutes: 0,
            environment: SummaryEnvironment::default(),
            phases: Vec::new(),
            artifacts: None,
            secondary_artifacts: Vec::new(),
            exported_environment_variables: Vec::new(),
            logs: BuildLogs::default(),
            reports: Vec::new(),
        }
    }

    /// The first phase that did not succeed, with its context: the reason a build failed.
    pub fn failing_phase(&self) -> Option<&PhaseRecord> {
        self.phases.iter().find(|p| p.status.is_some_and(|s| s != Status::Succeeded))
    }

    /// The summary as pretty-printed JSON, with a final newline.
    ///
    /// # Errors
    /// serde's, should a value not be representable.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|mut s| {
            s.push('\n');
            s
        })
    }

    /// Reads a summary, refusing one of another format.
    ///
    /// # Errors
    /// [`SummaryError`] when the text is not a summary of [`SUMMARY_FORMAT`].
    pub fn from_json(text: &[u8]) -> Result<Self, SummaryError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            kiln_summary_format: Option<u32>,
        }
        let probe: Probe = serde_json::from_slice(text).map_err(SummaryError::Json)?;
        match probe.kiln_summary_format {
            Some(SUMMARY_FORMAT) => {
                let mut de = serde_json::Deserializer::from_slice(text);
                serde_path_to_error::deserialize(&mut de).map_err(|e| SummaryError::Field {
                    path: e.path().to_string(),
                    source: e.into_inner(),
                })
            }
            Some(found) => Err(SummaryError::Format(found)),
            None => Err(SummaryError::NoFormat),
        }
    }
}

/// Why a build summary could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// Not JSON.
    #[error("read the build summary as JSON")]
    Json(#[source] serde_json::Error),
    /// No `kilnSummaryFormat`.
    #[error("not a build summary: kilnSummaryFormat is missing")]
    NoFormat,
    /// Another format.
    #[error("build summary format {0} is not supported (this kiln reads format {SUMMARY_FORMAT})")]
    Format(u32),
    /// A field is wrong.
    #[error("build summary field {path}")]
    Field {
        /// The field's path.
        path: String,
        /// What is wrong.
        #[source]
        source: serde_json::Error,
    },
}
