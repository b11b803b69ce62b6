//! An ECS task state change in, `service::finalize` out: only STOPPED tasks of the kiln
//! cluster that run a kiln build count; the build is found by its task's `startedBy` (or its
//! `--description`), and finalized with how the task stopped. The answer is retryable while the
//! final record could not be written or GitHub has not confirmed the final status, so Lambda
//! delivers the event again (finalizing is idempotent: a repeated or late event changes
//! nothing); the sweeper catches what retries do not.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use kiln_core::build::BuildRef;
use kiln_core::ports::BuildStore;
use kiln_core::service::{self, FinalizeError};
use kiln_lambda::{CloudPorts, HandlerError};
use serde::Serialize;

use crate::event::{DETAIL_TYPE, EcsTaskStateChange};

/// What the function needs.
#[derive(Debug)]
pub struct TaskEvents {
    /// The services' ports.
    pub ports: CloudPorts,
    /// `KILN_CLUSTER`.
    pub cluster: String,
}

/// What an event did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Outcome {
    /// Nothing: the event is not a kiln build's task stopping.
    Ignored {
        /// Why.
        reason: String,
    },
    /// The build is final.
    Finalized {
        /// `<project> #<n>`.
        build: String,
        /// Its state.
        state: String,
    },
}

/// The final status is not on GitHub yet; the event is retried.
#[derive(Debug, thiserror::Error)]
#[error("finalize {0}: github has not confirmed the final status yet")]
struct Unconfirmed(BuildRef);

fn ignored(reason: impl Into<String>) -> Outcome {
    Outcome::Ignored { reason: reason.into() }
}

impl TaskEvents {
    /// Handles one event.
    ///
    /// # Errors
    /// [`HandlerError`], retryable when the build store or GitHub failed.
    #[tracing::instrument(skip_all, fields(task = %event.detail.task_arn, status = %event.detail.last_status))]
    pub async fn handle(
        &self,
        event: EventBridgeEvent<EcsTaskStateChange>,
    ) -> Result<Outcome, HandlerError> {
        let task = &event.detail;
        if event.detail_type != DETAIL_TYPE {
            return Ok(ignored(format!("a {} event", event.detail_type)));
        }
        if !task.is_stopped() {
            return Ok(ignored(format!("task is {}", task.last_status)));
        }
        if !task.is_on(&self.cluster) {
            return Ok(ignored("a task of another cluster"));
        }
        let builds = &self.ports.builds;
        let record = match (task.build_key(), task.described_build()) {
            (Some(key), _) => builds.find(key).await?,
            (None, Some(at)) => Some(builds.read(&at).await?),
            (None, None) => None,
        };
        let Some(record) = record else { return Ok(ignored("not the task of a kiln build")) };
        if record.task.as_ref().is_some_and(|t| t.0 != task.task_arn) {
            return Ok(ignored("the build's task is another"));
        }
        let at = record.build_ref();
        let done = service::finalize(self.ports.ports(), &at, Some(task.task_stop()))
            .await
            .map_err(|e| match e {
                FinalizeError::Port(ref p) => HandlerError::classed(p.is_retryable(), e),
                FinalizeError::Contended => HandlerError::retryable(e),
            })?;
        let confirmed = done
            .status_report
            .as_ref()
            .is_none_or(|r| r.posted == Some(done.wanted_commit_state()));
        if !confirmed {
            return Err(HandlerError::retryable(Unconfirmed(at)));
        }
        Ok(Outcome::Finalized { build: at.to_string(), state: done.state.name().to_owned() })
    }
}
