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
