//! The sweeper: what no event will finish. Builds past their deadline are stopped and end
//! TIMED_OUT; builds whose task ended or vanished without being finalized are finalized; builds
//! whose launcher died before starting a task end FAULT; final statuses GitHub never confirmed
//! are posted again. Work per run is bounded.

use crate::build::{BuildRef, BuildState};
use crate::ports::TaskState;

use super::Ports;
use super::finalize::{Conclusion, conclude};
use super::report::report_status;

/// How a sweep judges builds.
#[derive(Debug, Clone)]
pub struct SweepPolicy {
    /// At most this many builds are looked at per run.
    pub max_builds: usize,
    /// A QUEUED build with no task, older than this, lost its launcher (milliseconds).
    pub queued_grace_ms: i64,
    /// How long past its deadline a running build may take to end by itself before it is
    /// stopped (the agent enforces its own timeout; this catches a task that hangs).
    pub deadline_grace_ms: i64,
    /// The reason given to builds whose task the runner does not know, or whose launcher was
    /// lost ("kiln restarted" when a server starts up).
    pub lost_reason: String,
}

impl Default for SweepPolicy {
    fn default() -> Self {
        Self {
            max_builds: 200,
            queued_grace_ms: 15 * 60 * 1000,
            deadline_grace_ms: 5 * 60 * 1000,
            lost_reason: "the build's task was lost".to_owned(),
        }
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Builds it finalized (their task had ended, or was lost).
    pub finalized: Vec<BuildRef>,
    /// Builds it stopped for running past their deadline.
    pub timed_out: Vec<BuildRef>,
    /// Builds whose final status it posted again.
    pub reposted: Vec<BuildRef>,
    /// How many builds it could not deal with this time (a port failed).
    pub failed: usize,
}

/// Sweeps the open builds and the unconfirmed final statuses: see the module docs.
#[tracing::instrument(skip_all)]
pub async fn sweep(ports: Ports<'_>, policy: &SweepPolicy) -> SweepReport {
    let mut report = SweepReport::default();
    let open = match ports.builds.list_open().await {
        Ok(open) => open,
        Err(error) => {
            tracing::warn!(error = %crate::error_chain(&error), "list open builds");
            report.failed += 1;
            return report;
        }
    };
    let now = ports.clock.now_ms();
    for build in open.into_iter().take(policy.max_builds) {
        let at = build.build_ref();
        let conclusion = match (&build.task, build.state) {
            (None, BuildState::Queued) if now - build.start_time >= policy.queued_grace_ms => {
                Some((
                    Conclusion::Forced {
                        state: BuildState::Fault,
                        reason: policy.lost_reason.clone(),
                    },
                    false,
                ))
            }
            (None, _) => None,
            (Some(task), _) => match ports.runner.describe(task).await {
                Ok(TaskState::Stopped(stop)) => Some((Conclusion::TaskEnded(Some(stop)), false)),
                Ok(TaskState::Unknown) => Some((
                    Conclusion::Forced {
                        state: BuildState::Fault,
                        reason: policy.lost_reason.clone(),
                    },
                    false,
                )),
                Ok(TaskState::Pending | TaskState::Running)
                    if now >= build.deadline_ms().saturating_add(policy.deadline_grace_ms) =>
                {
                    if let Err(error) = ports.runner.stop(task, "the build timed out").await {
                        tracing::warn!(build = %at, error = %crate::error_chain(&error), "stop a build past its deadline");
                    }
                    Some((
                        Conclusion::Forced {
                            state: BuildState::TimedOut,
                            reason: "Build has timed out".to_owned(),
                        },
                        true,
                    ))
                }
                Ok(TaskState::Pending | TaskState::Running) => None,
                Err(error) => {
                    tracing::warn!(build = %at, error = %crate::error_chain(&error), "describe a build's task");
                    report.failed += 1;
                    None
                }
            },
        };
        let Some((conclusion, timed_out)) = conclusion else { continue };
        match conclude(ports, &at, conclusion).await {
            Ok(b) if b.state.is_terminal() => {
                if timed_out {
                    report.timed_out.push(at);
                } else {
                    report.finalized.push(at);
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(build = %at, error = %crate::error_chain(&error), "finalize a build");
                report.failed += 1;
            }
        }
    }
    repost(ports, policy, &mut report).await;
    report
}

/// Posts again the final statuses of recent builds that GitHub never confirmed.
async fn repost(ports: Ports<'_>, policy: &SweepPolicy, report: &mut SweepReport) {
    let recent = match ports.builds.list_recent(None, policy.max_builds).await {
        Ok(recent) => recent,
        Err(error) => {
            tracing::warn!(error = %crate::error_chain(&error), "list recent builds");
            report.failed += 1;
            return;
        }
    };
    for build in recent {
        let unconfirmed = build.state.is_terminal()
            && build
                .status_report
                .as_ref()
                .is_some_and(|r| r.posted != Some(build.wanted_commit_state()));
        if !unconfirmed {
            continue;
        }
        let at = build.build_ref();
        let wanted = build.wanted_commit_state();
        let after = report_status(ports, build).await;
        if after.status_report.as_ref().is_some_and(|r| r.posted == Some(wanted)) {
            report.reposted.push(at);
        } else {
            report.failed += 1;
        }
    }
}
