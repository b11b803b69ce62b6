//! A build's end: the agent's summary (or, without one, what the runner saw) becomes the final
//! record, then the final commit status.
//!
//! Rules: the agent's summary, when it wrote one, always decides (it is the only witness of
//! the phases); without one, a forced conclusion decides (an invalid buildspec, a launch that
//! failed, a restart, a timeout found by the sweeper); without either, a task that ended with no
//! summary is FAULT with the runner's reason. Finalizing is idempotent and monotonic: a
//! terminal record is never changed, a repeated or late call only re-posts a final status that
//! GitHub has not confirmed. The terminal status is announced once, by the call whose write
//! ended the build.

use crate::build::{Build, BuildRef, BuildState, BuildSummary, Status};
use crate::ports::{PortError, PortErrorKind, TaskState, TaskStop};

use super::announce::announce;
use super::report::report_status;
use super::{CAS_ATTEMPTS, Ports};

/// How a build is to be concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conclusion {
    /// Its task ended (with what the runner saw, when the caller knows it; otherwise the
    /// runner is asked).
    TaskEnded(Option<TaskStop>),
    /// End it as `state` for `reason`, unless the agent's summary says how it ended.
    Forced {
        /// The terminal state.
        state: BuildState,
        /// Why, in words (shown in the commit status and the record).
        reason: String,
    },
}

/// Why a build could not be finalized now (the caller, or the sweeper, tries again later).
#[derive(Debug, thiserror::Error)]
pub enum FinalizeError {
    /// A store or runner call failed.
    #[error("finalize the build")]
    Port(#[from] PortError),
    /// Others kept changing the record.
    #[error("finalize the build: the record kept changing")]
    Contended,
}

/// Finalizes `build` after its task ended: see the module docs.
///
/// # Errors
/// [`FinalizeError`] when the record could not be read or written.
pub async fn finalize(
    ports: Ports<'_>,
    build: &BuildRef,
    stop: Option<TaskStop>,
) -> Result<Build, FinalizeError> {
    conclude(ports, build, Conclusion::TaskEnded(stop)).await
}

/// Concludes `build` as `conclusion` says (see the module docs) and posts its final status.
/// A build whose task is still running is returned unchanged.
///
/// # Errors
/// [`FinalizeError`] when the record could not be read or written.
#[tracing::instrument(skip(ports), fields(build = %build))]
pub async fn conclude(
    ports: Ports<'_>,
    build: &BuildRef,
    conclusion: Conclusion,
) -> Result<Build, FinalizeError> {
    for _ in 0..CAS_ATTEMPTS {
        let mut record = ports.builds.read(build).await?;
        if record.state.is_terminal() {
            return Ok(report_status(ports, record).await);
        }
        let summary = ports.builds.get_summary(build).await?;
        let ended = match (&summary, &conclusion) {
            (Some(summary), _) => from_summary(&mut record, summary),
            (None, Conclusion::Forced { state, reason }) => {
                record.state = *state;
                record.reason.get_or_insert_with(|| reason.clone());
                true
            }
            (None, Conclusion::TaskEnded(stop)) => {
                let stop = match (stop, &record.task) {
                    (Some(stop), _) => Some(stop.clone()),
                    (None, Some(task)) => match ports.runner.describe(task).await? {
                        TaskState::Stopped(stop) => Some(stop),
                        TaskState::Unknown => Some(TaskStop {
                            reason: Some("the build's task is gone".to_owned()),
                            ..TaskStop::default()
                        }),
                        TaskState::Pending | TaskState::Running => None,
                    },
                    (None, None) => None,
                };
                match stop {
                    Some(stop) => {
                        record.state = BuildState::Fault;
                        record.reason.get_or_insert_with(|| lost_summary(&stop));
                        true
                    }
                    None => false,
                }
            }
        };
        if !ended {
            return Ok(record);
        }
        if record.end_time.is_none() {
            record.end_time = Some(ports.clock.now_ms());
        }
        match ports.builds.update(&record).await {
            Ok(stored) => {
                tracing::info!(state = %stored.state, "build finalized");
                announce(ports, &stored, summary.as_ref()).await;
                return Ok(report_status(ports, stored).await);
            }
            Err(e) if e.kind == PortErrorKind::Conflict => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(FinalizeError::Contended)
}

/// Takes the summary's status, end, commit and failing phase into the record.
fn from_summary(record: &mut Build, summary: &BuildSummary) -> bool {
    record.state = match summary.build_status {
        Status::InProgress => BuildState::Fault,
        status => BuildState::of(status),
    };
    record.end_time = Some(summary.end_time);
    if summary.resolved_source_version.is_some() {
        record.resolved_source_version.clone_from(&summary.resolved_source_version);
    }
    if record.reason.is_none() {
        record.reason = summary.failing_phase().and_then(|p| {
            p.contexts
                .iter()
                .find(|c| !c.message.is_empty())
                .map(|c| format!("{}: {}", p.phase_type, c.message.trim()))
        });
    }
    true
}

/// The reason of a task that ended without a summary: the runner's stop in words.
fn lost_summary(stop: &TaskStop) -> String {
    stop.in_words()
}
