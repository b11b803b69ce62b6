//! Phase types, phase and build statuses, and the record of one phase as BatchGetBuilds shows it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The phases of a build, in CodeBuild's order (API `BuildPhase.phaseType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhaseType {
    /// `SUBMITTED`.
    Submitted,
    /// `QUEUED`.
    Queued,
    /// `PROVISIONING`.
    Provisioning,
    /// `DOWNLOAD_SOURCE`: source copy and buildspec reading.
    DownloadSource,
    /// `INSTALL`.
    Install,
    /// `PRE_BUILD`.
    PreBuild,
    /// `BUILD`.
    Build,
    /// `POST_BUILD`.
    PostBuild,
    /// `UPLOAD_ARTIFACTS`: artifacts, reports and the cache save.
    UploadArtifacts,
    /// `FINALIZING`.
    Finalizing,
    /// `COMPLETED`: the last entry, which has no status.
    Completed,
}

impl PhaseType {
    /// Every phase type, in order.
    pub const ALL: [Self; 11] = [
        Self::Submitted,
        Self::Queued,
        Self::Provisioning,
        Self::DownloadSource,
        Self::Install,
        Self::PreBuild,
        Self::Build,
        Self::PostBuild,
        Self::UploadArtifacts,
        Self::Finalizing,
        Self::Completed,
    ];

    /// CodeBuild's name: `DOWNLOAD_SOURCE`, `POST_BUILD`, ...
    pub fn name(self) -> &'static str {
        match self {
            Self::Submitted => "SUBMITTED",
            Self::Queued => "QUEUED",
            Self::Provisioning => "PROVISIONING",
            Self::DownloadSource => "DOWNLOAD_SOURCE",
            Self::Install => "INSTALL",
            Self::PreBuild => "PRE_BUILD",
            Self::Build => "BUILD",
            Self::PostBuild => "POST_BUILD",
            Self::UploadArtifacts => "UPLOAD_ARTIFACTS",
            Self::Finalizing => "FINALIZING",
            Self::Completed => "COMPLETED",
        }
    }

    /// The buildspec phase this type runs, for INSTALL … POST_BUILD.
    pub fn buildspec_phase(self) -> Option<crate::buildspec::PhaseName> {
        use crate::buildspec::PhaseName;
        match self {
            Self::Install => Some(PhaseName::Install),
            Self::PreBuild => Some(PhaseName::PreBuild),
            Self::Build => Some(PhaseName::Build),
            Self::PostBuild => Some(PhaseName::PostBuild),
            _ => None,
        }
    }
}

impl fmt::Display for PhaseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A phase's or a build's status (API `StatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// `SUCCEEDED`.
    Succeeded,
    /// `FAILED`: a command, the buildspec or the user's input failed.
    Failed,
    /// `FAULT`: kiln's own machinery failed.
    Fault,
    /// `TIMED_OUT`.
    TimedOut,
    /// `IN_PROGRESS`.
    InProgress,
    /// `STOPPED`.
    Stopped,
}

impl Status {
    /// CodeBuild's name: `SUCCEEDED`, `TIMED_OUT`, ...
    pub fn name(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Fault => "FAULT",
            Self::TimedOut => "TIMED_OUT",
            Self::InProgress => "IN_PROGRESS",
            Self::Stopped => "STOPPED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A phase context: CodeBuild's status code and message explaining a phase's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseContext {
    /// `COMMAND_EXECUTION_ERROR`, `YAML_FILE_ERROR`, `CLIENT_ERROR`, ...
    pub status_code: String,
    /// The message.
    pub message: String,
}

impl PhaseContext {
    /// A context with `status_code` and `message`.
    pub fn new(status_code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status_code: status_code.into(), message: message.into() }
    }

    /// `COMMAND_EXECUTION_ERROR` with CodeBuild's message for a failed command.
    pub fn command_failed(command: &str, exit_status: i32) -> Self {
        Self::new(
            "COMMAND_EXECUTION_ERROR",
            format!("Error while executing command: {command}. Reason: exit status {exit_status}"),
        )
    }

    /// `YAML_FILE_ERROR` with `message`.
    pub fn yaml(message: impl Into<String>) -> Self {
        Self::new("YAML_FILE_ERROR", message)
    }
}

/// How a phase ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseEnd {
    /// The phase's final status (never IN_PROGRESS).
    pub status: Status,
    /// Why, when it did not succeed.
    pub context: Option<PhaseContext>,
}

impl PhaseEnd {
    /// A phase that succeeded.
    pub fn succeeded() -> Self {
        Self { status: Status::Succeeded, context: None }
    }

    /// A phase that ended with `status` for the reason in `context`.
    pub fn with(status: Status, context: PhaseContext) -> Self {
        Self { status, context: Some(context) }
    }

    /// A phase that failed for the reason in `context`.
    pub fn failed(context: PhaseContext) -> Self {
        Self::with(Status::Failed, context)
    }
}

/// One entry of a build's `phases`, as BatchGetBuilds shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// `phaseType`.
    #[serde(rename = "phaseType")]
    pub phase_type: PhaseType,
    /// `phaseStatus`; `None` for COMPLETED.
    #[serde(rename = "phaseStatus", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// `startTime`, epoch milliseconds.
    #[serde(rename = "startTime", with = "super::timestamp::iso")]
    pub start_ms: i64,
    /// `endTime`, epoch milliseconds; `None` for COMPLETED.
    #[serde(
        rename = "endTime",
        default,
        with = "super::timestamp::iso_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_ms: Option<i64>,
    /// `durationInSeconds`, rounded down as CodeBuild does; `None` for COMPLETED.
    #[serde(rename = "durationInSeconds", default, skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
    /// `contexts`: why the phase ended as it did (empty when it succeeded).
    #[serde(default)]
    pub contexts: Vec<PhaseContext>,
}

impl PhaseRecord {
    /// A phase that started at `start_ms` and ended at `end_ms` as `end` says.
    pub fn ended(phase_type: PhaseType, start_ms: i64, end_ms: i64, end: &PhaseEnd) -> Self {
        Self {
            phase_type,
            status: Some(end.status),
            start_ms,
            end_ms: Some(end_ms),
            duration_in_seconds: Some((end_ms - start_ms).max(0) / 1000),
            contexts: end.context.clone().into_iter().collect(),
        }
    }

    /// The COMPLETED entry that ends every build's phases.
    pub fn completed(at_ms: i64) -> Self {
        Self {
            phase_type: PhaseType::Completed,
            status: None,
            start_ms: at_ms,
            end_ms: None,
            duration_in_seconds: None,
            contexts: Vec::new(),
        }
    }

    /// The phase's duration in milliseconds, when it ended.
    pub fn duration_ms(&self) -> Option<i64> {
        self.end_ms.map(|end| (end - self.start_ms).max(0))
    }
}
