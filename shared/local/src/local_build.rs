//! One build on this machine through the cloud's contract (`kiln run`): the record created in
//! the data directory, launched with the [`InProcessTaskRunner`], finalized from the summary
//! the agent wrote, exactly as a Fargate task's build is launched and finalized.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use kiln_core::build::{Build, BuildSummary};
use kiln_core::ports::{BuildAgent, BuildStore, Created, PortError, SystemClock, TaskRunner};
use kiln_core::project::Project;
use kiln_core::service::{self, BuildPlan, FinalizeError, LaunchError, Ports, Settings};

use crate::{
    FsBuildStore, InProcessTaskRunner, LocalSourceHost, RecordingBuildEvents,
    RecordingStatusReporter,
};

/// A local build that ran.
#[derive(Debug, Clone)]
pub struct LocalBuild {
    /// Its final record.
    pub build: Build,
    /// What the agent reported, when it got to report.
    pub summary: Option<BuildSummary>,
}

/// Why a local build could not be run through.
#[derive(Debug, thiserror::Error)]
pub enum LocalBuildError {
    /// The record could not be written or read.
    #[error("record the build in the data directory")]
    Store(#[from] PortError),
    /// The launch failed.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// The build could not be finalized.
    #[error(transparent)]
    Finalize(#[from] FinalizeError),
    /// A record already had this build's key.
    #[error("a build with key {0} already exists")]
    Duplicate(String),
    /// The agent could not be made ready (its log file, say).
    #[error("prepare the build's agent")]
    Agent(#[source] std::io::Error),
}

/// Runs `plan` of `project` with the agent `make_agent` returns for its record, keeping its
/// state under `data_dir`; `cancel` resolving stops the build (it then ends STOPPED).
///
/// # Errors
/// [`LocalBuildError`] when the data directory cannot hold the build's state.
pub async fn run_local_build(
    settings: &Settings,
    project: &Project,
    plan: BuildPlan,
    data_dir: &Path,
    make_agent: impl FnOnce(&Build) -> std::io::Result<Arc<dyn BuildAgent>>,
    cancel: impl Future<Output = ()>,
) -> Result<LocalBuild, LocalBuildError> {
    let builds = Arc::new(FsBuildStore::new(data_dir));
    let clock = SystemClock;
    let key = plan.key.clone();
    let build =
        match service::create_build(builds.as_ref(), &clock, settings, project, plan).await? {
            Created::New(build) => build,
            Created::Existing(_) => return Err(LocalBuildError::Duplicate(key)),
        };
    let agent = make_agent(&build).map_err(LocalBuildError::Agent)?;
    let runner = InProcessTaskRunner::new(agent, builds.clone(), data_dir);
    let statuses = RecordingStatusReporter::new();
    let source = LocalSourceHost::default();
    let events = RecordingBuildEvents::discarding();
    let ports = Ports {
        builds: builds.as_ref(),
        runner: &runner,
        statuses: &statuses,
        source: &source,
        clock: &clock,
        events: &events,
    };
    let launched = service::launch(ports, build, project).await?;
    if let Some(task) = &launched.task {
        tokio::select! {
            _ = runner.wait(task) => {}
            () = cancel => {
                runner.stop(task, "stopped by the user").await?;
                runner.wait(task).await;
            }
        }
    }
    let at = launched.build_ref();
    let build = service::finalize(ports, &at, None).await?;
    let summary = builds.get_summary(&at).await?;
    Ok(LocalBuild { build, summary })
}
