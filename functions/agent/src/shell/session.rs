//! One build's shell: runs each command in a fresh `sh`/`bash` in its own process group, with
//! the state the previous command left (0.2) or the initial state (0.1), a deadline and a stop
//! flag; kills the build's processes when either fires.
//!
//! Design: a long-lived shell cannot give each command its own process group, so each command
//! runs in a new shell. Nothing of a command or of the state touches the disk or the command
//! line: the shell's `-c` text is a fixed preamble that sources its script from its stdin (a
//! pipe, `. /dev/stdin`), and the script is the restore line (0.2, once a command saved state)
//! followed by the command text as written (a multi-line command is one unit whose last status
//! counts; no implicit `set -e`). After the command the preamble writes `set` and `export -p`
//! on a state pipe (the shell's stderr, moved to fd 3, closed while the command runs), which
//! kiln reads into memory and decodes ([`super::state`]). A command that `exit`s saves
//! nothing: the next command sees the state from before it. A saved working directory that no
//! longer exists falls back to `CODEBUILD_SRC_DIR`. Commands of any length work (no `-c`
//! argument limit) and their text never shows in `/proc/*/cmdline`.
//!
//! `run-as`: the shell runs under the user's uid and gid with its `HOME`, `USER` and `LOGNAME`;
//! the pipes it reopens are given to that user. The user can only hand back variables and a
//! working directory (decoded and re-quoted by kiln); a later phase that runs as kiln's own
//! user gets kiln's `HOME`, `USER` and `LOGNAME` back. A later phase does run whatever the
//! working copy and those variables (`PATH` included) name, as in CodeBuild: `run-as` limits a
//! phase, it does not sandbox the phases after it.
//!
//! Background children keep running after their command (as in CodeBuild's container) until
//! the build times out, is stopped or finishes, when [`ShellSession::kill_all`] kills every
//! process the build started ([`crate::process`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use kiln_core::buildspec::Version;
use kiln_core::logs::LogMessage;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::child::{self, Frame, Running};
use super::env::{self, EnvError};
use super::state::{Markers, State, is_identifier};
use crate::output::LogSink;
use crate::process::{self, ProcessError, Processes};

/// How long a killed command gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// How long to wait, after a command exits, for its output pipe to close (it stays open while a
/// background child of the command holds it) and for its state frame.
const DRAIN: Duration = Duration::from_millis(100);

pub use kiln_core::ports::StopFlag;

/// The variables that say who runs a command.
const IDENTITY: [&str; 3] = ["HOME", "USER", "LOGNAME"];

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status (128 + the signal number when a signal ended it).
    Code(i32),
    /// The build's deadline passed; the build's processes were killed.
    TimedOut,
    /// A stop was asked for; the build's processes were killed.
    Stopped,
}

/// The user commands run as (`run-as`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// The user's name.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary gid.
    pub gid: u32,
    /// Its home directory, which becomes `HOME` [INF: CodeBuild's is undocumented].
    pub home: String,
}

/// Why `run-as` cannot be honoured.
#[derive(Debug, thiserror::Error)]
pub enum RunAsError {
    /// kiln does not run as root.
    #[error("run-as {0}: kiln must run as root to switch user")]
    NotRoot(String),
    /// No such user.
    #[error("run-as {0}: no such user")]
    NoSuchUser(String),
    /// The user database could not be read.
    #[error("run-as {0}: look up user")]
    Lookup(String, #[source] nix::Error),
}

impl RunAs {
    /// Looks `name` up; fails unless kiln runs as root.
    pub fn lookup(name: &str) -> Result<Self, RunAsError> {
        if !nix::unistd::geteuid().is_root() {
            return Err(RunAsError::NotRoot(name.to_owned()));
        }
        let user = nix::unistd::User::from_name(name)
            .map_err(|e| RunAsError::Lookup(name.to_owned(), e))?
            .ok_or_else(|| RunAsError::NoSuchUser(name.to_owned()))?;
        Ok(Self {
            name: name.to_owned(),
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            home: user.dir.to_string_lossy().into_owned(),
        })
    }
}

/// Why the shell could not start or run a command.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The initial environment holds a variable no process can be given.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// A pipe could not be made.
    #[error("create a pipe for the shell")]
    Pipe(#[source] nix::Error),
    /// A pipe could not be given to the `run-as` user.
    #[error("give the shell's pipes to run-as user {user}")]
    GivePipe {
        /// The user.
        user: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The script could not be written to the shell.
    #[error("write the command to the shell")]
    Script(#[source] std::io::Error),
    /// Starting, waiting for or killing processes failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// What a build's shell needs.
#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// The shell program: `sh` or `bash`.
    pub program: String,
    /// The buildspec version: 0.2 carries state, 0.1 does not.
    pub version: Version,
    /// `CODEBUILD_SRC_DIR`, where commands start.
    pub src_dir: PathBuf,
    /// The initial environment.
    pub env: Vec<(String, String)>,
}

/// The shell of one build.
#[derive(Debug)]
pub struct ShellSession {
    config: ShellConfig,
    state: Option<State>,
    saved_as: Option<u32>,
    cwd: PathBuf,
    stop: StopFlag,
    processes: Processes,
    markers: Option<Markers>,
    preamble: String,
    warned: Vec<String>,
}

impl ShellSession {
    /// A session that has run nothing yet; fails when the initial environment holds a
    /// variable no process can be given ([`EnvError`]).
    pub fn new(config: ShellConfig, stop: StopFlag) -> Result<Self, ShellError> {
        env::check(&config.env)?;
        let persistent = config.version == Version::V0_2;
        let markers = persistent.then(Markers::new);
        let preamble = match &markers {
            Some(m) => format!(
                "exec 3>&2 2>&1\n. /dev/stdin 3>&-\n__kiln_rc=$?\n{posix}{{ set; command printf '%s\\n' {exports}; export -p; command printf '%s\\n' {end}; }} >&3\nexit $__kiln_rc\n",
                posix = if config.program.ends_with("bash") { "set -o posix\n" } else { "" },
                exports = m.exports,
                end = m.end,
            ),
            None => "exec 2>&1\n. /dev/stdin\n".to_owned(),
        };
        let cwd = config.src_dir.clone();
        Ok(Self {
            config,
            state: None,
            saved_as: None,
            cwd,
            stop,
            processes: Processes::for_build(),
            markers,
            preamble,
            warned: Vec::new(),
        })
    }

    /// The identity variables a command run as `run_as` gets over the state: the user's, or
    /// kiln's own again after a command of another user saved the state.
    fn identity(&self, run_as: Option<&RunAs>) -> (Vec<(String, String)>, Vec<String>) {
        if let Some(user) = run_as {
            let values = [&user.home, &user.name, &user.name];
            let set = IDENTITY.iter().zip(values).map(|(n, v)| ((*n).to_owned(), v.clone()));
            return (set.collect(), Vec::new());
        }
        if self.saved_as.is_none() {
            return (Vec::new(), Vec::new());
        }
        let initial = |name: &str| self.config.env.iter().rev().find(|(n, _)| n == name);
        let set = IDENTITY.iter().filter_map(|n| initial(n).cloned()).collect();
        let unset = IDENTITY.iter().filter(|n| initial(n).is_none()).map(|n| (*n).to_owned());
        (set, unset.collect())
    }

    /// The shell command for the next command, and its script.
    fn prepare(
        &self,
        command: &str,
        overrides: &[(String, String)],
        run_as: Option<&RunAs>,
    ) -> (Command, Vec<u8>) {
        let mut cmd = Command::new(&self.config.program);
        cmd.arg("-c").arg(&self.preamble).env_clear();
        let cwd = if self.cwd.is_dir() { &self.cwd } else { &self.config.src_dir };
        cmd.current_dir(cwd);
        let mut script = Vec::with_capacity(command.len() + 4096);
        script.extend_from_slice(b"exec </dev/null; ");
        let (identity, unset) = self.identity(run_as);
        match &self.state {
            Some(state) => {
                cmd.env("PWD", cwd);
                let mut all = overrides.to_vec();
                all.extend(identity);
                // `sh` is bash on some images; a state with BASH_VERSION came from one.
                let bash =
                    self.config.program.ends_with("bash") || state.scalar("BASH_VERSION").is_some();
                script.extend_from_slice(&state.restore_line(&all, &unset, bash));
            }
            None => {
                cmd.envs(self.config.env.iter().map(|(k, v)| (k, v)));
                cmd.envs(overrides.iter().chain(&identity).map(|(k, v)| (k, v)));
            }
        }
        if let Some(user) = run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(user.uid).gid(user.gid);
        }
        script.extend_from_slice(command.as_bytes());
        script.push(b'\n');
        (cmd, script)
    }

    /// Runs `command`, its output going to `sink`, with `overrides` set over the state
    /// (`CODEBUILD_BUILD_SUCCEEDING`), as `run_as` when given, until `deadline`.
    pub fn run(
        &mut self,
        command: &str,
        overrides: &[(String, String)],
        run_as: Option<&RunAs>,
        deadline: Option<Instant>,
        sink: &LogSink,
    ) -> Result<Exit, ShellError> {
        let (cmd, script) = self.prepare(command, overrides, run_as);
        let mut running =
            child::start(cmd, script, run_as, self.markers.as_ref(), &self.processes, sink)?;
        let ended = self.wait(&running, deadline)?;
        let status = self.processes.reap(&mut running.child)?;
        // A background child may hold the output pipe open; its output goes on streaming.
        let _ = running.log_ended.recv_timeout(DRAIN);
        process::reap_adopted();
        if let Some(exit) = ended {
            return Ok(exit);
        }
        if let Some(frame) = &running.frame {
            self.collect(frame.recv_timeout(DRAIN), run_as, sink);
        }
        Ok(Exit::Code(exit_code(&status)))
    }

    /// Waits for the command's shell to exit: `None` when it did on its own, the way it was
    /// ended when the deadline or a stop ended it (then the build's processes are killed).
    fn wait(
        &self,
        running: &Running,
        deadline: Option<Instant>,
    ) -> Result<Option<Exit>, ShellError> {
        loop {
            let slice = deadline
                .map_or(Duration::from_millis(100), |d| d.saturating_duration_since(Instant::now()))
                .min(Duration::from_millis(100));
            match running.exited.recv_timeout(slice) {
                Ok((written, exited)) => {
                    exited?;
                    written.map_err(ShellError::Script)?;
                    return Ok(None);
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {
                    let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
                    if timed_out || self.stop.is_set() {
                        // The group is reserved until the shell is reaped; it may be empty.
                        let _ = killpg(Pid::from_raw(running.pid), Signal::SIGTERM);
                        let gone = running.exited.recv_timeout(GRACE).is_ok();
                        self.processes.kill_all()?;
                        if !gone {
                            // Only the shell's exit is awaited; it was just killed.
                            let _ = running.exited.recv();
                        }
                        return Ok(Some(if timed_out { Exit::TimedOut } else { Exit::Stopped }));
                    }
                }
            }
        }
    }

    /// Takes the state the command saved, if it saved a whole frame.
    fn collect(
        &mut self,
        frame: Result<Frame, RecvTimeoutError>,
        run_as: Option<&RunAs>,
        sink: &LogSink,
    ) {
        let Some(markers) = &self.markers else { return };
        let state = match frame {
            Ok(Frame::Complete(bytes)) => markers.parse(&bytes),
            Ok(Frame::TooLarge) => {
                sink.line(&LogMessage::Text(
                    "Warning: the shell state is too large to keep; the next command starts from the state before this one",
                ));
                None
            }
            Ok(Frame::Incomplete) | Err(_) => None,
        };
        let Some(state) = state else { return };
        for name in &state.dropped {
            if !self.warned.contains(name) {
                sink.line(&LogMessage::Text(&format!(
                    "Warning: variable {name} cannot be carried to the next command"
                )));
                self.warned.push(name.clone());
            }
        }
        if let Some(cwd) = &state.cwd {
            self.cwd = cwd.clone();
        }
        self.saved_as = run_as.map(|u| u.uid);
        self.state = Some(state);
    }

    /// Kills every process the build started (SIGKILL), background children and processes
    /// that left the build's process groups included, and reaps the orphans kiln adopted.
    pub fn kill_all(&self) -> Result<(), ShellError> {
        self.processes.kill_all()?;
        Ok(())
    }

    /// The current values of `names` (unset or not a variable name → `None`), in the build's
    /// shell state.
    pub fn query(&self, names: &[String]) -> Vec<Option<String>> {
        names
            .iter()
            .map(|name| {
                if !is_identifier(name) {
                    return None;
                }
                match &self.state {
                    Some(state) => {
                        state.scalar(name).map(|v| String::from_utf8_lossy(v).into_owned())
                    }
                    None => self
                        .config
                        .env
                        .iter()
                        .rev()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone()),
                }
            })
            .collect()
    }

    /// The exported environment in the build's shell state (for evaluating artifact names and
    /// cache keys); the initial environment before any command saved state (always, in 0.1,
    /// where every command starts from it).
    pub fn env_snapshot(&self) -> Vec<(String, String)> {
        match &self.state {
            Some(state) => state.environment(),
            None => self.config.env.clone(),
        }
    }

    /// The shell program (`sh` or `bash`).
    pub fn program(&self) -> &str {
        &self.config.program
    }

    /// The build's source directory.
    pub fn src_dir(&self) -> &Path {
        &self.config.src_dir
    }
}

fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(-1)
}
