//! The build record: one [`Build`] per accepted build, from acceptance to its terminal
//! status, as the [`crate::ports::BuildStore`] keeps it.
//!
//! A record is written before anything is started (so a redelivery finds it), updated with
//! compare-and-swap on [`Build::revision`], and never leaves a terminal state: a repeated or late
//! update that would move a finished build is ignored by the services. What the commit status
//! on GitHub should say is derived from the record ([`Build::wanted_commit_state`]); what GitHub
//! last confirmed is [`StatusReport::posted`], so a failed post is retried by comparing the two.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::commit_state::{CommitState, commit_state};
use super::identity::BuildIdentity;
use super::name_value::NameValue;
use super::phase::Status;
use crate::webhook::{CommitSha, DeliveryId, EventType, RepoFullName};

/// The format of build records; bumped when their shape changes.
pub const RECORD_FORMAT: u32 = 1;

/// A build as people and URLs name it: project and number (`/builds/{project}/{number}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BuildRef {
    /// The project's name.
    pub project: String,
    /// The build number, from 1.
    pub number: u64,
}

impl BuildRef {
    /// Build `number` of `project`.
    pub fn new(project: impl Into<String>, number: u64) -> Self {
        Self { project: project.into(), number }
    }
}

impl fmt::Display for BuildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} #{}", self.project, self.number)
    }
}

/// Where a build is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuildState {
    /// Accepted and recorded; no task started yet.
    Queued,
    /// A task was started for it.
    InProgress,
    /// `SUCCEEDED`.
    Succeeded,
    /// `FAILED`.
    Failed,
    /// `FAULT`.
    Fault,
    /// `TIMED_OUT`.
    TimedOut,
    /// `STOPPED`.
    Stopped,
}

impl BuildState {
    /// The state of a build that ended with `status` (IN_PROGRESS maps to InProgress).
    pub fn of(status: Status) -> Self {
        match status {
            Status::Succeeded => Self::Succeeded,
            Status::Failed => Self::Failed,
            Status::Fault => Self::Fault,
            Status::TimedOut => Self::TimedOut,
            Status::Stopped => Self::Stopped,
            Status::InProgress => Self::InProgress,
        }
    }

    /// Whether the build has ended.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Queued | Self::InProgress)
    }

    /// The CodeBuild status (`IN_PROGRESS` while queued or running).
    pub fn status(self) -> Status {
        match self {
            Self::Queued | Self::InProgress => Status::InProgress,
            Self::Succeeded => Status::Succeeded,
            Self::Failed => Status::Failed,
            Self::Fault => Status::Fault,
            Self::TimedOut => Status::TimedOut,
            Self::Stopped => Status::Stopped,
        }
    }

    /// The name kiln shows: CodeBuild's status names, and `QUEUED`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            other => other.status().name(),
        }
    }
}

impl fmt::Display for BuildState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the build's source comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SourceSpec {
    /// A directory on the machine that runs the build (`kiln run`).
    Directory {
        /// The directory.
        path: PathBuf,
        /// Build the directory itself (`--in-place`) instead of a fresh copy of it.
        #[serde(default, rename = "inPlace")]
        in_place: bool,
        /// Paths inside it a copy leaves out (kiln's data directory).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        exclude: Vec<PathBuf>,
    },
    /// A git repository, fetched at a commit.
    Git(GitSource),
    /// `NO_SOURCE`: the build starts in an empty directory.
    NoSource,
}

/// A git source, as CodeBuild's GitHub source fetches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitSource {
    /// The clone URL (`source.location`), never holding a credential.
    pub url: String,
    /// The commit to check out; `None` to take what `fetch_ref` names at fetch time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitSha>,
    /// The ref to fetch when the commit alone may not be advertised (`refs/pull/8/head`,
    /// `refs/tags/v1`, `refs/heads/main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_ref: Option<String>,
    /// `gitCloneDepth`: 0 or absent for the full history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_depth: Option<u32>,
    /// `gitSubmodulesConfig.fetchSubmodules`.
    #[serde(default)]
    pub fetch_submodules: bool,
}

/// What a webhook build was started by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookOrigin {
    /// `X-GitHub-Delivery`, when the delivery had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryId>,
    /// The CodeBuild event type.
    pub event: EventType,
    /// The repository.
    pub repository: RepoFullName,
    /// `CODEBUILD_WEBHOOK_TRIGGER`: `branch/main`, `pr/8`, `tag/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// A pull request from a fork.
    #[serde(default)]
    pub from_fork: bool,
}

/// Where a build's commit statuses go and what GitHub last confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// The repository.
    pub repository: RepoFullName,
    /// The commit the statuses are on (the pull request's head for pull requests).
    pub commit: CommitSha,
    /// The status context, expanded (`AWS CodeBuild us-east-1 (proj)` by default).
    pub context: String,
    /// The `target_url`, expanded; `None` to link kiln's build page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
    /// The last state GitHub accepted, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted: Option<CommitState>,
}

/// A task a [`crate::ports::TaskRunner`] started: its id in the runner's terms (an ECS task ARN,
/// a local process or in-process id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskHandle(pub String);

impl fmt::Display for TaskHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The build environment a build asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildEnvironment {
    /// `CODEBUILD_BUILD_IMAGE`: the project's `environment.image`.
    pub image: String,
    /// `computeType`.
    pub compute_type: String,
    /// `type`: `LINUX_CONTAINER`, `ARM_CONTAINER`.
    #[serde(rename = "type")]
    pub environment_type: String,
}

/// One accepted build, from acceptance to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Build {
    /// [`RECORD_FORMAT`].
    pub kiln_record_format: u32,
    /// Who the build is.
    pub identity: BuildIdentity,
    /// The key the record was created under: a delivery's id and the project, so a
    /// redelivery finds this record instead of starting a second build.
    pub idempotency_key: String,
    /// Bumped by every update; updates compare it (compare-and-swap).
    pub revision: u64,
    /// Where the build is.
    pub state: BuildState,
    /// Why it ended as it did, in words, when its phases do not say (a launch failure, a
    /// restart, an invalid buildspec, a task that could not start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The delivery that started it, for webhook builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookOrigin>,
    /// The source to build.
    pub source: SourceSpec,
    /// `sourceVersion` as requested: a commit, `pr/8`, a tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// `resolvedSourceVersion`: the commit, when known before the build runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_source_version: Option<String>,
    /// `initiator`: the delivery's user agent, or the local user.
    pub initiator: String,
    /// `startTime`: when the build was accepted, epoch milliseconds.
    #[serde(with = "super::timestamp::iso")]
    pub start_time: i64,
    /// `endTime`, once terminal.
    #[serde(default, with = "super::timestamp::iso_opt", skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// The environment asked for.
    pub environment: BuildEnvironment,
    /// The build's timeout, in seconds (`timeoutInMinutes` × 60, or `kiln run --timeout`).
    pub timeout_seconds: u64,
    /// Whether the build may read the project's secrets (false for fork pull requests under
    /// `kiln.forkPullRequests: without-secrets`).
    pub with_secrets: bool,
    /// `buildspecOverride`: a path in the source or an inline buildspec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildspec_override: Option<String>,
    /// Built-in variables beyond the ones derived from the record: `CODEBUILD_WEBHOOK_*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builtin_variables: Vec<NameValue>,
    /// `environmentVariablesOverride` (`kiln run --env`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_variables_override: Vec<NameValue>,
    /// The task running it, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskHandle>,
    /// Where its commit statuses go, for builds that report them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_report: Option<StatusReport>,
}

impl Build {
    /// Project and number.
    pub fn build_ref(&self) -> BuildRef {
        BuildRef::new(self.identity.project.clone(), self.identity.number)
    }

    /// The commit status this record calls for: `pending` while queued or running, then the
    /// final state (spec §7.5: FAILED and TIMED_OUT → failure, FAULT and STOPPED → error).
    pub fn wanted_commit_state(&self) -> CommitState {
        commit_state(self.state.status())
    }

    /// The deadline, epoch milliseconds: the start plus the timeout.
    pub fn deadline_ms(&self) -> i64 {
        let timeout = i64::try_from(self.timeout_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        self.start_time.saturating_add(timeout)
    }
}
