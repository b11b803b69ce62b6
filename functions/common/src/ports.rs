//! The ports a function hands the services, over AWS and GitHub, and the runner of functions
//! that start no task.

use kiln_aws::{EventBridgeBuildEvents, S3BuildStore};
use kiln_core::build::{BuildDescription, TaskHandle};
use kiln_core::ports::{
    PortError, PortErrorKind, PortFuture, SourceHost, StatusReporter, SystemClock, TaskRunner,
    TaskState,
};
use kiln_core::service::Ports;

use crate::github::LazyGitHub;

/// Every port of the services, owned.
pub struct CloudPorts {
    /// Build state in the state bucket.
    pub builds: S3BuildStore,
    /// ECS (or [`NoTasks`]).
    pub runner: Box<dyn TaskRunner>,
    /// GitHub's commit statuses.
    pub statuses: Box<dyn StatusReporter>,
    /// GitHub's pull requests and contents.
    pub source: Box<dyn SourceHost>,
    /// The system's clock.
    pub clock: SystemClock,
    /// The default event bus.
    pub events: EventBridgeBuildEvents,
}

impl std::fmt::Debug for CloudPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudPorts").field("bucket", &self.builds.bucket()).finish_non_exhaustive()
    }
}

impl CloudPorts {
    /// The ports of a function over `sdk`: build state in `bucket`, build events on the default
    /// bus (naming the build log group `log_group`, if the function knows it), tasks started
    /// with `runner`, and GitHub through `github`.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        bucket: &str,
        log_group: Option<String>,
        runner: Box<dyn TaskRunner>,
        github: &LazyGitHub,
    ) -> Self {
        Self {
            builds: S3BuildStore::new(sdk, bucket),
            events: EventBridgeBuildEvents::new(sdk, log_group),
            runner,
            statuses: Box::new(github.clone()),
            source: Box::new(github.clone()),
            clock: SystemClock,
        }
    }

    /// The ports, borrowed, as the services take them.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            builds: &self.builds,
            runner: self.runner.as_ref(),
            statuses: self.statuses.as_ref(),
            source: self.source.as_ref(),
            clock: &self.clock,
            events: &self.events,
        }
    }
}

/// The runner of a function that starts, stops and describes no task (the log relay): every
/// call fails `Permanent`, naming the function's limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTasks;

fn refused<T: Send + 'static>(what: &str) -> PortFuture<'static, T> {
    let e = PortError::new(PortErrorKind::Permanent, format!("{what}: this function runs no task"));
    Box::pin(async move { Err(e) })
}

impl TaskRunner for NoTasks {
    fn start<'a>(&'a self, _: &'a BuildDescription, _: &'a str) -> PortFuture<'a, TaskHandle> {
        refused("start a task")
    }

    fn stop<'a>(&'a self, _: &'a TaskHandle, _: &'a str) -> PortFuture<'a, ()> {
        refused("stop a task")
    }

    fn describe<'a>(&'a self, _: &'a TaskHandle) -> PortFuture<'a, TaskState> {
        refused("describe a task")
    }
}
