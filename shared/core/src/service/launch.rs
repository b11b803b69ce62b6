//! Starting a recorded build: `pending` on GitHub, the task, the record updated.
//!
//! `pending` is posted before the task starts (not after), so a build that ends quickly can
//! never have its final status overtaken by a late `pending`. A launch that fails ends the
//! build FAULT with the reason and posts `error`: a failed launch never leaves a status
//! pending. Once the task has started and the record says so, `IN_PROGRESS` is announced.

use crate::build::{Build, BuildDescription, BuildState};
use crate::ports::PortErrorKind;
use crate::project::Project;

use super::announce::announce;
use super::finalize::{Conclusion, FinalizeError, conclude};
use super::report::report_status;
use super::{CAS_ATTEMPTS, Ports};

/// Why a build could not be launched or concluded after a failed launch.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The record could not be updated or concluded.
    #[error("launch the build")]
    Finalize(#[from] FinalizeError),
    /// The record could not be updated.
    #[error("launch the build")]
    Store(#[from] crate::ports::PortError),
}

/// Launches `build` of `project`: see the module docs. Returns the record as it is after the
/// launch (IN_PROGRESS with its task, or FAULT when the task could not start).
///
/// # Errors
/// [`LaunchError`] when the record could not be written; the task may then be running and the
/// sweeper finds it.
#[tracing::instrument(skip_all, fields(build = %build.identity.id()))]
pub async fn launch(
    ports: Ports<'_>,
    build: Build,
    project: &Project,
) -> Result<Build, LaunchError> {
    let build = report_status(ports, build).await;
    let description = BuildDescription::of(&build, project);
    let task = match ports.runner.start(&description, &build.idempotency_key).await {
        Ok(task) => task,
        Err(error) => {
            tracing::warn!(error = %crate::error_chain(&error), "the build's task could not start");
            let reason = format!("could not start the build: {}", crate::error_chain(&error));
            let conclusion = Conclusion::Forced { state: BuildState::Fault, reason };
            return Ok(conclude(ports, &build.build_ref(), conclusion).await?);
        }
    };
    let mut record = build;
    for _ in 0..CAS_ATTEMPTS {
        if record.state.is_terminal() {
            return Ok(record);
        }
        record.state = BuildState::InProgress;
        record.task = Some(task.clone());
        match ports.builds.update(&record).await {
            Ok(stored) => {
                announce(ports, &stored, None).await;
                return Ok(stored);
            }
            Err(e) if e.kind == PortErrorKind::Conflict => {
                record = ports.builds.read(&record.build_ref()).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(record)
}
