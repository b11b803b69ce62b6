//! `ProcessTaskRunner`: the [`TaskRunner`] port as child processes of the `kiln-agent` binary,
//! for `kiln serve`. One process per build, in a process group of its own, so a build that
//! crashes cannot take the server down and everything it started can be killed.
//!
//! - builds wait in a queue for one of `max_parallel` places (`TaskState::Pending`);
//! - each build's description is written to `DATA_DIR/builds/<project>/<n>/description.json`
//!   (as a Fargate task's is written to the state bucket), its workspace is that directory, and
//!   the child's stdout and stderr are appended to its `build.log`;
//! - the source credential, when there is one, reaches the child only in its environment
//!   (`KILN_GIT_TOKEN`), which the agent never passes on to a build's commands;
//! - a child still running past its deadline plus a grace period gets SIGTERM, then SIGKILL;
//!   [`TaskRunner::stop`] does the same at once (the agent, on SIGTERM, ends the build STOPPED
//!   and writes its summary);
//! - every task's end is sent on the channel given to [`ProcessTaskRunner::new`], so the server
//!   finalizes the build.
//!
//! Tasks live in this process's memory: after a restart the runner knows none of them
//! (`TaskState::Unknown`), and the sweeper ends the builds left open.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kiln_core::build::{BuildDescription, BuildRef, HomeMode, SourceSpec, TaskHandle, layout};
use kiln_core::ports::{
    PortError, PortErrorKind, PortFuture, SourceCredentials, TaskRunner, TaskState, TaskStop,
};
use kiln_core::project::repository_key;
use kiln_core::webhook::RepoFullName;
use tokio::sync::{Semaphore, mpsc, watch};

/// How long a build gets to end by itself after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// A task's end, for the server to finalize its build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEnded {
    /// The task.
    pub task: TaskHandle,
    /// Its build.
    pub build: BuildRef,
    /// How it stopped.
    pub stop: TaskStop,
}

/// How to run the agent.
#[derive(Debug, Clone)]
pub struct AgentCommand {
    /// The `kiln-agent` binary.
    pub program: PathBuf,
    /// The secrets file handed to the agent (`--secrets`), if any.
    pub secrets: Option<PathBuf>,
}

struct Task {
    handle: TaskHandle,
    state: watch::Receiver<TaskState>,
    stop: Arc<tokio::sync::Notify>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

/// Runs build descriptions as child processes of the agent binary.
pub struct ProcessTaskRunner {
    agent: AgentCommand,
    data_dir: PathBuf,
    credentials: Option<Arc<dyn SourceCredentials>>,
    places: Arc<Semaphore>,
    ended: mpsc::UnboundedSender<TaskEnded>,
    tasks: Mutex<HashMap<String, Task>>,
}

impl std::fmt::Debug for ProcessTaskRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessTaskRunner")
            .field("agent", &self.agent)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl ProcessTaskRunner {
    /// A runner of `agent` keeping builds under `data_dir`, at most `max_parallel` at once,
    /// sending each task's end on `ended`.
    pub fn new(
        agent: AgentCommand,
        data_dir: impl Into<PathBuf>,
        max_parallel: usize,
        credentials: Option<Arc<dyn SourceCredentials>>,
        ended: mpsc::UnboundedSender<TaskEnded>,
    ) -> Self {
        Self {
            agent,
            data_dir: data_dir.into(),
            credentials,
            places: Arc::new(Semaphore::new(max_parallel.max(1))),
            ended,
            tasks: Mutex::new(HashMap::new()),
        }
    }

    fn tasks(&self) -> MutexGuard<'_, HashMap<String, Task>> {
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many builds run now and how many wait.
    pub fn load(&self) -> (usize, usize) {
        let tasks = self.tasks();
        let running = tasks.values().filter(|t| *t.state.borrow() == TaskState::Running).count();
        let pending = tasks.values().filter(|t| *t.state.borrow() == TaskState::Pending).count();
        (running, pending)
    }

    async fn credential(
        &self,
        description: &BuildDescription,
    ) -> Result<Option<secrecy::SecretString>, PortError> {
        let (Some(credentials), SourceSpec::Git(git)) = (&self.credentials, &description.source)
        else {
            return Ok(None);
        };
        let Some(repo) = repository_key(&git.url).and_then(|k| RepoFullName::parse(&k).ok()) else {
            return Ok(None);
        };
        credentials.fetch_token(&repo).await
    }
}

fn port_io(e: std::io::Error, operation: String) -> PortError {
    PortError::new(PortErrorKind::Unavailable, operation).with_source(e)
}

impl TaskRunner for ProcessTaskRunner {
    fn start<'a>(
        &'a self,
        description: &'a BuildDescription,
        client_token: &'a str,
    ) -> PortFuture<'a, TaskHandle> {
        Box::pin(async move {
            if let Some(task) = self.tasks().get(client_token) {
                return Ok(task.handle.clone());
            }
            let at = BuildRef::new(description.build.project.clone(), description.build.number);
            let dir = self.data_dir.join(layout::build_prefix(&at));
            let mut description = description.clone();
            description.home = HomeMode::Keep;
            description.workspace = Some(dir.clone());
            let file = self.data_dir.join(layout::description_key(&at));
            let json = serde_json::to_vec_pretty(&description).map_err(|e| {
                PortError::new(PortErrorKind::Permanent, "write the build description")
                    .with_source(e)
            })?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| port_io(e, format!("create {}", dir.display())))?;
            std::fs::write(&file, json)
                .map_err(|e| port_io(e, format!("write {}", file.display())))?;
            let credential = self.credential(&description).await?;
            let handle = TaskHandle(format!("process:{}", description.build.uuid));
            let (state_tx, state_rx) = watch::channel(TaskState::Pending);
            let stop = Arc::new(tokio::sync::Notify::new());
            let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let run = Run {
                agent: self.agent.clone(),
                data_dir: self.data_dir.clone(),
                description_file: file,
                log: self.data_dir.join(layout::log_key(&at)),
                credential,
                deadline: remaining(&description) + STOP_GRACE,
                places: Arc::clone(&self.places),
                stop: Arc::clone(&stop),
                stopped: Arc::clone(&stopped),
                state: state_tx,
                ended: self.ended.clone(),
                handle: handle.clone(),
                build: at,
            };
            tokio::spawn(run.go());
            self.tasks().insert(
                client_token.to_owned(),
                Task { handle: handle.clone(), state: state_rx, stop, stopped },
            );
            Ok(handle)
        })
    }

    fn stop<'a>(&'a self, task: &'a TaskHandle, _reason: &'a str) -> PortFuture<'a, ()> {
        Box::pin(async move {
            if let Some(t) = self.tasks().values().find(|t| &t.handle == task) {
                t.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
                t.stop.notify_one();
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

/// How long `description` may still run.
fn remaining(description: &BuildDescription) -> Duration {
    let now = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX);
    let elapsed = u64::try_from((now - description.start_time_ms).max(0)).unwrap_or(0);
    Duration::from_secs(description.timeout_seconds).saturating_sub(Duration::from_millis(elapsed))
}

/// One task's life: wait for a place, run the agent, watch its deadline and stop requests.
struct Run {
    agent: AgentCommand,
    data_dir: PathBuf,
    description_file: PathBuf,
    log: PathBuf,
    credential: Option<secrecy::SecretString>,
    deadline: Duration,
    places: Arc<Semaphore>,
    stop: Arc<tokio::sync::Notify>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
    state: watch::Sender<TaskState>,
    ended: mpsc::UnboundedSender<TaskEnded>,
    handle: TaskHandle,
    build: BuildRef,
}

impl Run {
    async fn go(self) {
        let stop = self.run().await;
        let _ = self.state.send(TaskState::Stopped(stop.clone()));
        let _ = self.ended.send(TaskEnded {
            task: self.handle.clone(),
            build: self.build.clone(),
            stop,
        });
    }

    async fn run(&self) -> TaskStop {
        let permit = tokio::select! {
            permit = Arc::clone(&self.places).acquire_owned() => permit,
            () = self.stop.notified() => return user_stop("stopped before it started"),
        };
        let Ok(_permit) = permit else { return failed("the runner is shutting down") };
        if self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            return user_stop("stopped before it started");
        }
        let log = match std::fs::OpenOptions::new().create(true).append(true).open(&self.log) {
            Ok(f) => f,
            Err(e) => return failed(&format!("open the build log {}: {e}", self.log.display())),
        };
        let (out, err) = match (log.try_clone(), log.try_clone()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return failed("share the build log"),
        };
        let mut cmd = tokio::process::Command::new(&self.agent.program);
        cmd.arg("--description").arg(&self.description_file).arg("--data-dir").arg(&self.data_dir);
        if let Some(secrets) = &self.agent.secrets {
            cmd.arg("--secrets").arg(secrets);
        }
        if let Some(token) = &self.credential {
            use secrecy::ExposeSecret;
            cmd.env("KILN_GIT_TOKEN", token.expose_secret());
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::from(out)).stderr(Stdio::from(err));
        cmd.process_group(0).kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return failed(&format!("start {}: {e}", self.agent.program.display())),
        };
        let _ = self.state.send(TaskState::Running);
        let pid = child.id().and_then(|p| i32::try_from(p).ok());
        let signalled = tokio::select! {
            status = child.wait() => return exited(status, None),
            () = tokio::time::sleep(self.deadline) => "the build ran past its deadline",
            () = self.stop.notified() => "stopped",
        };
        if let Some(pid) = pid {
            signal_group(pid, nix::sys::signal::Signal::SIGTERM);
        }
        match tokio::time::timeout(STOP_GRACE, child.wait()).await {
            Ok(status) => exited(status, Some(signalled)),
            Err(_) => {
                if let Some(pid) = pid {
                    signal_group(pid, nix::sys::signal::Signal::SIGKILL);
                }
                let status = child.wait().await;
                let mut stop = exited(status, Some(signalled));
                stop.stop_code = Some("Killed".to_owned());
                stop
            }
        }
    }
}

fn signal_group(pid: i32, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), signal);
}

fn exited(status: std::io::Result<std::process::ExitStatus>, why: Option<&str>) -> TaskStop {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => TaskStop {
            exit_code: s.code(),
            stop_code: s
                .signal()
                .map(|n| format!("signal {n}"))
                .or_else(|| why.map(|_| "UserInitiated".to_owned())),
            reason: why.map(str::to_owned),
        },
        Err(e) => failed(&format!("wait for the agent: {e}")),
    }
}

fn failed(reason: &str) -> TaskStop {
    TaskStop {
        exit_code: None,
        stop_code: Some("TaskFailedToStart".to_owned()),
        reason: Some(reason.to_owned()),
    }
}

fn user_stop(reason: &str) -> TaskStop {
    TaskStop {
        exit_code: None,
        stop_code: Some("UserInitiated".to_owned()),
        reason: Some(reason.to_owned()),
    }
}
