//! Build notifications: the event kiln puts on the default EventBridge bus at every build
//! transition, shaped like CodeBuild's `CodeBuild Build State Change` so that rules written for
//! CodeBuild (to SNS, Slack, a pipeline) work on kiln's builds by changing only the source and
//! the detail type.
//!
//! The launcher announces `IN_PROGRESS` once a build's task has started; the finalizer announces
//! the terminal status once the final record is written. The detail carries what CodeBuild's
//! does, from the record and, once the build has ended, the agent's summary: `build-status`,
//! `project-name`, `build-id` (the build's ARN) and `additional-information` (environment,
//! timeout, build number, initiator, start time in CodeBuild's `Sep 1, 2017 4:12:29 PM` form,
//! source, source version, logs with a link to the build's page, phases, the primary
//! artifact).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::build::{Build, BuildSummary, PhaseRecord, PhaseType, SourceSpec, Status};

/// The events' `source`.
pub const SOURCE: &str = "kiln";
/// The events' `detail-type`.
pub const DETAIL_TYPE: &str = "Kiln Build State Change";

/// The detail of a build state change: CodeBuild's field names and shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildStateChange {
    /// `IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `FAULT`, `TIMED_OUT` or `STOPPED`.
    pub build_status: String,
    /// The project.
    pub project_name: String,
    /// The build's ARN (CodeBuild's `build-id` is the ARN too).
    pub build_id: String,
    /// Everything else about the build.
    pub additional_information: AdditionalInformation,
    /// The phase the build is in: `COMPLETED` once it has ended.
    pub current_phase: String,
    /// The current phase's contexts, as CodeBuild writes them (`"[]"`).
    pub current_phase_context: String,
    /// The detail's version: `1`, as CodeBuild's.
    pub version: String,
    /// The build's task, when it had one: not part of the detail, for adapters that know
    /// where that task's log is (the awslogs stream).
    #[serde(skip)]
    pub task: Option<crate::build::TaskHandle>,
}

/// `additional-information`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AdditionalInformation {
    /// The primary artifact, once uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<ArtifactInformation>,
    /// The build environment.
    pub environment: EnvironmentInformation,
    /// The build's timeout, in minutes.
    pub timeout_in_minutes: u64,
    /// Whether the build has ended.
    pub build_complete: bool,
    /// The per-project build number.
    pub build_number: u64,
    /// Who started it.
    pub initiator: String,
    /// When it was accepted, as CodeBuild writes it (`Sep 1, 2017 4:12:29 PM`, UTC).
    pub build_start_time: String,
    /// The source.
    pub source: SourceInformation,
    /// `sourceVersion`, then the commit built once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// Where the log is.
    pub logs: LogsInformation,
    /// The phases so far (empty while the agent has not reported).
    pub phases: Vec<PhaseInformation>,
}

/// `additional-information.artifact`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ArtifactInformation {
    /// Hex MD5 of the ZIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5sum: Option<String>,
    /// Hex SHA-256 of the ZIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256sum: Option<String>,
    /// `arn:aws:s3:::bucket/key`.
    pub location: String,
}

/// `additional-information.environment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct EnvironmentInformation {
    /// The image.
    pub image: String,
    /// Always false: Fargate runs no privileged containers.
    pub privileged_mode: bool,
    /// `computeType`.
    pub compute_type: String,
    /// `LINUX_CONTAINER`, `ARM_CONTAINER`.
    #[serde(rename = "type")]
    pub environment_type: String,
    /// The build's `environmentVariablesOverride` (plain text; a project's secrets never).
    pub environment_variables: Vec<EnvironmentVariableInformation>,
}

/// One of `environment-variables`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentVariableInformation {
    /// The name.
    pub name: String,
    /// `PLAINTEXT`.
    #[serde(rename = "type")]
    pub variable_type: String,
    /// The value.
    pub value: String,
}

/// `additional-information.source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInformation {
    /// The repository's clone URL (no credential ever), absent for `NO_SOURCE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `GITHUB` for a git source, `NO_SOURCE`, or `LOCAL` for a directory.
    #[serde(rename = "type")]
    pub source_type: String,
}

/// `additional-information.logs`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogsInformation {
    /// The CloudWatch Logs group, when the build's log is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The CloudWatch Logs stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_name: Option<String>,
    /// A link to the log: the build's page (which shows it), the summary's link otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_link: Option<String>,
}

/// One of `additional-information.phases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PhaseInformation {
    /// `STATUS_CODE: message` of each context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_context: Option<Vec<String>>,
    /// When the phase started.
    pub start_time: String,
    /// When it ended (absent for COMPLETED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// How long it took (absent for COMPLETED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
    /// The phase.
    pub phase_type: String,
    /// How it ended (absent for COMPLETED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_status: Option<String>,
}

impl BuildStateChange {
    /// The state change `build` is at now, with the agent's `summary` when it reported.
    pub fn of(build: &Build, summary: Option<&BuildSummary>) -> Self {
        let id = &build.identity;
        let complete = build.state.is_terminal();
        let phases: Vec<PhaseInformation> =
            summary.map(|s| s.phases.iter().map(phase).collect()).unwrap_or_default();
        let current_phase = if complete {
            PhaseType::Completed.name().to_owned()
        } else {
            summary
                .and_then(|s| s.phases.last())
                .map_or(PhaseType::Provisioning, |p| p.phase_type)
                .name()
                .to_owned()
        };
        let source = match &build.source {
            SourceSpec::Git(git) => {
                SourceInformation { location: Some(git.url.clone()), source_type: "GITHUB".into() }
            }
            SourceSpec::NoSource => {
                SourceInformation { location: None, source_type: "NO_SOURCE".into() }
            }
            SourceSpec::Directory { .. } => {
                SourceInformation { location: None, source_type: "LOCAL".into() }
            }
        };
        let page = build.status_report.as_ref().and_then(|r| r.target_url.clone());
        let logs = LogsInformation {
            group_name: summary.and_then(|s| s.logs.group_name.clone()),
            stream_name: summary.and_then(|s| s.logs.stream_name.clone()),
            deep_link: page.or_else(|| summary.and_then(|s| s.logs.deep_link.clone())),
        };
        let artifact = summary.and_then(|s| s.artifacts.as_ref()).map(|a| ArtifactInformation {
            md5sum: a.md5sum.clone(),
            sha256sum: a.sha256sum.clone(),
            location: a.location.clone(),
        });
        Self {
            build_status: build.state.status().name().to_owned(),
            project_name: id.project.clone(),
            build_id: id.arn(),
            additional_information: AdditionalInformation {
                artifact,
                environment: EnvironmentInformation {
                    image: build.environment.image.clone(),
                    privileged_mode: false,
                    compute_type: build.environment.compute_type.clone(),
                    environment_type: build.environment.environment_type.clone(),
                    environment_variables: build
                        .environment_variables_override
                        .iter()
                        .map(|v| EnvironmentVariableInformation {
                            name: v.name.clone(),
                            variable_type: "PLAINTEXT".into(),
                            value: v.value.clone(),
                        })
                        .collect(),
                },
                timeout_in_minutes: build.timeout_seconds.div_ceil(60),
                build_complete: complete,
                build_number: id.number,
                initiator: build.initiator.clone(),
                build_start_time: codebuild_time(build.start_time),
                source,
                source_version: summary
                    .and_then(|s| s.resolved_source_version.clone())
                    .or_else(|| build.resolved_source_version.clone())
                    .or_else(|| build.source_version.clone()),
                logs,
                phases,
            },
            current_phase,
            current_phase_context: "[]".into(),
            version: "1".into(),
            task: build.task.clone(),
        }
    }

    /// Whether this change is a build's end.
    pub fn is_final(&self) -> bool {
        self.build_status != Status::InProgress.name()
    }
}

fn phase(p: &PhaseRecord) -> PhaseInformation {
    let completed = p.phase_type == PhaseType::Completed;
    PhaseInformation {
        phase_context: (!completed).then(|| {
            p.contexts.iter().map(|c| format!("{}: {}", c.status_code, c.message)).collect()
        }),
        start_time: codebuild_time(p.start_ms),
        end_time: p.end_ms.map(codebuild_time),
        duration_in_seconds: p.duration_in_seconds,
        phase_type: p.phase_type.name().to_owned(),
        phase_status: p.status.map(|s| s.name().to_owned()),
    }
}

/// `ms` as CodeBuild's events write times: `Sep 1, 2017 4:12:29 PM`, in UTC.
pub fn codebuild_time(ms: i64) -> String {
    let format = format_description!(
        "[month repr:short] [day padding:none], [year] [hour repr:12 padding:none]:[minute]:[second] [period]"
    );
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_codebuilds() {
        assert_eq!(codebuild_time(1_504_282_349_000), "Sep 1, 2017 4:12:29 PM");
        assert_eq!(codebuild_time(1_568_347_949_000), "Sep 13, 2019 4:12:29 AM");
    }
}
