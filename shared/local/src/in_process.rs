//! `InProcessTaskRunner`: the [`TaskRunner`] port that runs the agent in this process, for
//! `kiln run`. Each task runs on a thread of its own (the agent blocks while commands run),
//! its summary goes to the [`BuildStore`] as a Fargate task's goes to S3, and
//! [`InProcessTaskRunner::wait`] lets the caller wait for it.
//!
//! A task's workspace is `DATA_DIR/builds/<project>/<n>/` unless the description names one,
//! and it keeps the user's `HOME` (a local run is the user's own).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use kiln_core::build::{BuildDescription, BuildRef, HomeMode, Status, TaskHandle, layout};
use kiln_core::ports::{
    BuildAgent, BuildStore, PortFuture, StopFlag, TaskRunner, TaskState, TaskStop,
};
use tokio::sync::watch;

struct Task {
    handle: TaskHandle,
    stop: StopFlag,
    state: watch::Receiver<TaskState>,
}

/// Runs build descriptions with an agent in this process.
pub struct InProcessTaskRunner {
    agent: Arc<dyn BuildAgent>,
    builds: Arc<dyn BuildStore>,
    data_dir: PathBuf,
    tasks: Mutex<HashMap<String, Task>>,
}

impl std::fmt::Debug for InProcessTaskRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessTaskRunner")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl InProcessTaskRunner {
    /// A runner of `agent` whose summaries go to `builds`, with workspaces under `data_dir`.
    pub fn new(
        agent: Arc<dyn BuildAgent>,
        builds: Arc<dyn BuildStore>,
        data_dir: impl Into<PathBuf>,
    ) -> Self {
        Self { agent, builds, data_dir: data_dir.into(), tasks: Mutex::new(HashMap::new()) }
    }

    fn tasks(&self) -> MutexGuard<'_, HashMap<String, Task>> {
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until `task` has ended and says how (`Unknown` for a task this runner never
    /// started).
    pub async fn wait(&self, task: &TaskHandle) -> TaskState {
        let receiver = self.tasks().values().find(|t| &t.handle == task).map(|t| t.state.clone());
        let Some(mut receiver) = receiver else { return TaskState::Unknown };
        loop {
            let state = receiver.borrow_and_update().clone();
            if matches!(state, TaskState::Stopped(_)) {
                return state;
            }
            if receiver.changed().await.is_err() {
                return receiver.borrow().clone();
            }
        }
    }

    /// The stop flag of every task, for a caller that stops them all at once (a signal).
    pub fn stop_all(&self) {
        for task in self.tasks().values() {
            task.stop.stop();
        }
    }
}

impl TaskRunner for InProcessTaskRunner {
    fn start<'a>(
        &'a self,
        description: &'a BuildDescription,
        client_token: &'a str,
    ) -> PortFuture<'a, TaskHandle> {
        Box::pin(async move {
            let mut tasks = self.tasks();
            if let Some(task) = tasks.get(client_token) {
                return Ok(task.handle.clone());
            }
            let at = BuildRef::new(description.build.project.clone(), description.build.number);
            let mut description = description.clone();
            description.home = HomeMode::Keep;
            if description.workspace.is_none() {
                description.workspace = Some(self.data_dir.join(layout::build_prefix(&at)));
            }
            let handle = TaskHandle(format!("in-process:{}", description.build.uuid));
            let stop = StopFlag::default();
            let (sender, receiver) = watch::channel(TaskState::Running);
            let agent = Arc::clone(&self.agent);
            let builds = Arc::clone(&self.builds);
            let task_stop = stop.clone();
            let runtime = tokio::runtime::Handle::current();
            std::thread::Builder::new()
                .name(format!("kiln-build-{}", at.number))
                .spawn(move || {
                    let summary = runtime.block_on(agent.run(&description, task_stop));
                    let stored = runtime.block_on(builds.put_summary(&at, &summary));
                    let stop = match stored {
                        Ok(()) => TaskStop {
                            exit_code: Some(i32::from(summary.build_status != Status::Succeeded)),
                            ..TaskStop::default()
                        },
                        Err(e) => TaskStop {
                            exit_code: Some(2),
                            stop_code: Some("SummaryNotStored".to_owned()),
                            reason: Some(kiln_core::error_chain(&e)),
                        },
                    };
                    let _ = sender.send(TaskState::Stopped(stop));
                })
                .map_err(|e| {
                    kiln_core::ports::PortError::new(
                        kiln_core::ports::PortErrorKind::Unavailable,
                        "start a build thread",
                    )
                    .with_source(e)
                })?;
            tasks.insert(
                client_token.to_owned(),
                Task { handle: handle.clone(), stop, state: receiver },
            );
            Ok(handle)
        })
    }

    fn stop<'a>(&'a self, task: &'a TaskHandle, _reason: &'a str) -> PortFuture<'a, ()> {
        Box::pin(async move {
            if let Some(t) = self.tasks().values().find(|t| &t.handle == task) {
                t.stop.stop();
            }
            Ok(())
        })
    }

    fn describe<'a>(&'a self, task: &'a TaskHandle) -> PortFuture<'a, TaskState> {
        Box::pin(async move {
            Ok(self
                .tasks()
                .values()
                .find(|t| &t.handle == task)
                .map_or(TaskState::Unknown, |t| t.state.borrow().clone()))
        })
    }
}
