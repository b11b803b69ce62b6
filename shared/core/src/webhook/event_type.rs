//! CodeBuild's webhook EVENT types and the mapping from GitHub deliveries to them (spec §7.2).

use std::fmt;
use std::str::FromStr;

use super::event::{PullRequestAction, ReleaseAction, Trigger};

/// A CodeBuild webhook EVENT type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    /// `PUSH`.
    Push,
    /// `PULL_REQUEST_CREATED`: `pull_request` `opened`.
    PullRequestCreated,
    /// `PULL_REQUEST_UPDATED`: `pull_request` `synchronize`.
    PullRequestUpdated,
    /// `PULL_REQUEST_REOPENED`.
    PullRequestReopened,
    /// `PULL_REQUEST_MERGED`: `closed` with `merged`.
    PullRequestMerged,
    /// `PULL_REQUEST_CLOSED`: `closed` without `merged`.
    PullRequestClosed,
    /// `RELEASED`: `release` `released`.
    Released,
    /// `PRERELEASED`: `release` `prereleased`.
    Prereleased,
    /// `WORKFLOW_JOB_QUEUED`: accepted in filters, never produced by kiln.
    WorkflowJobQueued,
}

impl EventType {
    /// Every type, in CodeBuild's documentation order.
    pub const ALL: [Self; 9] = [
        Self::Push,
        Self::PullRequestCreated,
        Self::PullRequestUpdated,
        Self::PullRequestReopened,
        Self::PullRequestMerged,
        Self::PullRequestClosed,
        Self::Released,
        Self::Prereleased,
        Self::WorkflowJobQueued,
    ];

    /// The name CodeBuild uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Push => "PUSH",
            Self::PullRequestCreated => "PULL_REQUEST_CREATED",
            Self::PullRequestUpdated => "PULL_REQUEST_UPDATED",
            Self::PullRequestReopened => "PULL_REQUEST_REOPENED",
            Self::PullRequestMerged => "PULL_REQUEST_MERGED",
            Self::PullRequestClosed => "PULL_REQUEST_CLOSED",
            Self::Released => "RELEASED",
            Self::Prereleased => "PRERELEASED",
            Self::WorkflowJobQueued => "WORKFLOW_JOB_QUEUED",
        }
    }

    /// Whether this is one of the pull request types.
    pub fn is_pull_request(self) -> bool {
        matches!(
            self,
            Self::PullRequestCreated
                | Self::PullRequestUpdated
                | Self::PullRequestReopened
                | Self::PullRequestMerged
                | Self::PullRequestClosed
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An EVENT name CodeBuild does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

/// The EVENT type of a delivery, or why it has none and so never builds.
///
/// # Errors
/// The reason, for pings, ignored events, ref deletions and actions without an EVENT type.
pub fn event_type(trigger: &Trigger) -> Result<EventType, String> {
    match trigger {
        Trigger::Push(p) if p.deletes_ref() => {
            Err(format!("push deletes {}: there is no commit to build", p.git_ref))
        }
        Trigger::Push(_) => Ok(EventType::Push),
        Trigger::PullRequest(pr) => match &pr.action {
            PullRequestAction::Opened => Ok(EventType::PullRequestCreated),
            PullRequestAction::Reopened => Ok(EventType::PullRequestReopened),
            PullRequestAction::Synchronize => Ok(EventType::PullRequestUpdated),
            PullRequestAction::Closed if pr.merged => Ok(EventType::PullRequestMerged),
            PullRequestAction::Closed => Ok(EventType::PullRequestClosed),
            other => {
                Err(format!("pull_request action {} has no CodeBuild event type", other.as_str()))
            }
        },
        Trigger::Release(r) => match &r.action {
            ReleaseAction::Released => Ok(EventType::Released),
            ReleaseAction::Prereleased => Ok(EventType::Prereleased),
            ReleaseAction::Published => {
                Err("release action published has no CodeBuild event type".to_owned())
            }
            ReleaseAction::Other(a) => {
                Err(format!("release action {a} has no CodeBuild event type"))
            }
        },
        Trigger::Ping { .. } => Err("ping: the hook is set up; nothing to build".to_owned()),
        Trigger::Ignored { reason, .. } => Err(reason.clone()),
    }
}
