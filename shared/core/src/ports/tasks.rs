//! Where builds run: ECS Fargate tasks, child processes, the agent in this process.

use std::future::Future;
use std::pin::Pin;

use super::PortFuture;
use crate::build::{BuildDescription, BuildSummary, TaskHandle};

/// Why a task stopped, as far as its runner knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskStop {
    /// The agent's exit code: 0 the build succeeded, 1 it did not, 2 it could not start;
    /// `None` when the agent never ran or was killed.
    pub exit_code: Option<i32>,
    /// The runner's stop code (ECS `stopCode`: `TaskFailedToStart`, `SpotInterruption`,
    /// `EssentialContainerExited`, `UserInitiated`; a signal locally).
    pub stop_code: Option<String>,
    /// The runner's reason in words (ECS `stoppedReason`, a container's `reason`).
    pub reason: Option<String>,
}

impl TaskStop {
    /// Why a task that left no summary ended, in words for its commit status and page: what
    /// Fargate's stop code and reason mean (an image that cannot be pulled, resources that
    /// could not be set up, memory exhausted, Spot capacity reclaimed, a task that failed to
    /// start), then the runner's own reason and the exit code.
    pub fn in_words(&self) -> String {
        let reason = self.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let says = |needle: &str| reason.is_some_and(|r| r.contains(needle));
        let code = self.stop_code.as_deref().filter(|c| !c.is_empty());
        let (head, show_code) = if says("CannotPullContainerError") {
            ("the build image could not be pulled", false)
        } else if says("ResourceInitializationError") {
            (
                "the build's task could not be set up (its image registry, logs, secrets or network were out of reach)",
                false,
            )
        } else if says("OutOfMemory") {
            ("the build ran out of memory (a larger compute type has more)", false)
        } else {
            match code {
                Some("SpotInterruption") => {
                    ("Fargate Spot reclaimed the build's capacity and interrupted it", false)
                }
                Some("TaskFailedToStart") => ("the build's task failed to start", false),
                Some("UserInitiated") => ("the build's task was stopped", false),
                Some("ServiceSchedulerInitiated" | "TerminationNotice") => {
                    ("AWS stopped the build's task", true)
                }
                _ if self.exit_code.is_some() => {
                    ("the build's container exited without a summary", false)
                }
                _ => ("the build's task ended without a summary", true),
            }
        };
        let mut details = Vec::new();
        if let Some(code) = code.filter(|_| show_code) {
            details.push(code.to_owned());
        }
        if let Some(reason) = reason {
            details.push(reason.to_owned());
        }
        if let Some(exit) = self.exit_code {
            details.push(format!("exit code {exit}"));
        }
        if details.is_empty() { head.to_owned() } else { format!("{head}: {}", details.join("; ")) }
    }
}

/// What a runner knows of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    /// Waiting for a place, pulling its image, or starting.
    Pending,
    /// Running.
    Running,
    /// Ended.
    Stopped(TaskStop),
    /// The runner has no such task (never started, or forgotten).
    Unknown,
}

/// Starts build descriptions somewhere the agent runs them.
///
/// Contract:
/// - [`TaskRunner::start`] is idempotent on `client_token` (the build's idempotency key): a
///   second start with the same token starts nothing and returns the first task's handle. (ECS
///   honours RunTask's `clientToken` for a while; the services also guard with the build record,
///   so a redelivery never reaches the runner.) A runner may queue the task; the handle is
///   valid at once either way;
/// - the task runs the agent on exactly the description given; whatever the agent reports, its
///   runner makes available to the finalizer through the
///   [`super::BuildStore`] summary, and the task's end through [`TaskRunner::describe`];
/// - [`TaskRunner::stop`] asks the task to end (the agent gets SIGTERM, the build ends
///   STOPPED, then it is killed after a grace period); stopping an ended or unknown task
///   succeeds;
/// - `Throttled` and `Unavailable` may be retried (with the same token); the others may not:
///   a start that fails permanently means the build cannot run (its record ends FAULT).
pub trait TaskRunner: Send + Sync {
    /// Starts the agent on `description`.
    fn start<'a>(
        &'a self,
        description: &'a BuildDescription,
        client_token: &'a str,
    ) -> PortFuture<'a, TaskHandle>;

    /// Asks `task` to stop, for `reason` (shown in the build's log and record).
    fn stop<'a>(&'a self, task: &'a TaskHandle, reason: &'a str) -> PortFuture<'a, ()>;

    /// What the runner knows of `task` now.
    fn describe<'a>(&'a self, task: &'a TaskHandle) -> PortFuture<'a, TaskState>;
}

/// A request to stop a build, shared between whoever may ask (a signal, a runner's `stop`) and
/// the agent, which checks it between and during commands.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl StopFlag {
    /// Asks the build to stop.
    pub fn stop(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The agent, as runners that run it in-process see it: one build description in, its summary
/// out. A build's failures (including ones of kiln's own machinery) are in the summary's
/// status and phases; running never fails as a call.
pub trait BuildAgent: Send + Sync {
    /// Runs `description` to its end; `stop` ends it early as STOPPED.
    fn run<'a>(
        &'a self,
        description: &'a BuildDescription,
        stop: StopFlag,
    ) -> Pin<Box<dyn Future<Output = BuildSummary> + Send + 'a>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(code: Option<&str>, reason: Option<&str>, exit: Option<i32>) -> TaskStop {
        TaskStop {
            exit_code: exit,
            stop_code: code.map(str::to_owned),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn fargate_stops_read_as_words() {
        let pull = stop(
            Some("TaskFailedToStart"),
            Some(
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found",
            ),
            None,
        );
        assert_eq!(
            pull.in_words(),
            "the build image could not be pulled: CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
        );
        let init = stop(
            Some("TaskFailedToStart"),
            Some("ResourceInitializationError: unable to pull secrets"),
            None,
        );
        assert!(
            init.in_words().starts_with("the build's task could not be set up"),
            "{}",
            init.in_words()
        );
        let oom = stop(
            Some("EssentialContainerExited"),
            Some("OutOfMemoryError: Container killed due to memory usage"),
            Some(137),
        );
        assert_eq!(
            oom.in_words(),
            "the build ran out of memory (a larger compute type has more): OutOfMemoryError: Container killed due to memory usage; exit code 137"
        );
        let spot = stop(Some("SpotInterruption"), Some("Your Spot Task was interrupted."), None);
        assert!(spot.in_words().starts_with("Fargate Spot reclaimed"), "{}", spot.in_words());
        assert_eq!(
            stop(Some("TaskFailedToStart"), Some("Task failed to start"), None).in_words(),
            "the build's task failed to start: Task failed to start"
        );
        assert_eq!(
            stop(Some("EssentialContainerExited"), None, Some(2)).in_words(),
            "the build's container exited without a summary: exit code 2"
        );
        assert_eq!(TaskStop::default().in_words(), "the build's task ended without a summary");
        assert_eq!(
            stop(Some("Weird"), None, None).in_words(),
            "the build's task ended without a summary: Weird"
        );
    }
}
