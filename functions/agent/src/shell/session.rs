//! One build's shell: runs each command in a fresh `sh`/`bash` in its own process group, with
//! the state the previous command left (0.2) or the initial state (0.1), a deadline and a stop
//! flag; kills the whole group (SIGTERM, a grace period, SIGKILL) when either fires.
//!
//! Design: a long-lived shell cannot give each command its own process group, so each command
//! runs in a new shell that first sources a restore script (variables, exports), starts in the
//! saved working directory, runs the command text as written (a multi-line command is one unit
//! whose last status counts; no implicit `set -e`), then saves `set`, `export -p` and `$PWD`
//! with shell builtins, in one file. A command that `exit`s saves nothing: the next command sees the state
//! from before it. A saved working directory that no longer exists falls back to
//! `CODEBUILD_SRC_DIR`. State files are always written fresh (old ones are removed first,
//! never truncated or renamed over): ext4 flushes a file to disk on close after either, which
//! costs milliseconds per command. Background children keep running after their command (as in
//! CodeBuild's container) until the build times out or is stopped, when every process group
//! the build started is killed.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use kiln_core::buildspec::Version;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::state::{quote, restore_script};
use crate::output::LogSink;

/// The line that separates `set` output from `export -p` output in the saved state.
const EXPORTS: &str = "__KILN_STATE_EXPORTS_7f3a__";

/// The line that separates `export -p` output from the working directory in the saved state.
const CWD: &str = "__KILN_STATE_CWD_7f3a__";

/// How long a killed process group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// How long to wait, after a command exits, for its output pipe to close (it stays open while a
/// background child of the command holds it).
const DRAIN: Duration = Duration::from_millis(100);

pub use kiln_core::ports::StopFlag;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status (128 + the signal number when a signal ended it).
    Code(i32),
    /// The build's deadline passed; its process group was killed.
    TimedOut,
    /// A stop was asked for; its process group was killed.
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

/// What a build's shell needs.
#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// The shell program: `sh` or `bash`.
    pub program: String,
    /// The buildspec version: 0.2 carries state, 0.1 does not.
    pub version: Version,
    /// `CODEBUILD_SRC_DIR`, where commands start.
    pub src_dir: PathBuf,
    /// A private directory for the saved state.
    pub state_dir: PathBuf,
    /// The initial environment.
    pub env: Vec<(String, String)>,
}

/// The shell of one build.
#[derive(Debug)]
pub struct ShellSession {
    config: ShellConfig,
    restore: Option<PathBuf>,
    saved: Option<(String, String)>,
    cwd: PathBuf,
    groups: Vec<i32>,
    stop: StopFlag,
}

impl ShellSession {
    /// A session that has run nothing yet.
    ///
    /// The state directory is readable by kiln's user only: the saved state holds every
    /// variable's value, secrets included.
    pub fn new(config: ShellConfig, stop: StopFlag) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&config.state_dir)?;
        std::fs::set_permissions(&config.state_dir, std::fs::Permissions::from_mode(0o700))?;
        let cwd = config.src_dir.clone();
        Ok(Self { config, restore: None, saved: None, cwd, groups: Vec::new(), stop })
    }

    /// Lets users other than kiln's write the state (for `run-as`).
    pub fn share_state_dir(&self) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.config.state_dir, std::fs::Permissions::from_mode(0o777))
    }

    fn state_file(&self, name: &str) -> PathBuf {
        self.config.state_dir.join(name)
    }

    fn persistent(&self) -> bool {
        self.config.version == kiln_core::buildspec::Version::V0_2
    }

    /// The line that sources the restore script (0.2, once a command saved state), or nothing.
    /// `restore` is only ever set for 0.2.
    fn restore_line(&self) -> String {
        self.restore
            .as_ref()
            .map(|restore| format!(". {}\n", quote(&restore.to_string_lossy())))
            .unwrap_or_default()
    }

    /// The script text for `command`.
    fn script(&self, command: &str) -> String {
        if !self.persistent() {
            return command.to_owned();
        }
        let mut script = self.restore_line();
        script.reserve(command.len() + 400);
        script.push_str(command);
        script.push_str("\n__kiln_rc=$?\n");
        if self.config.program.ends_with("bash") {
            script.push_str("set -o posix\n");
        }
        script.push_str(&format!(
            "{{ set; command printf '\\n%s\\n' {EXPORTS}; export -p; command printf '\\n%s\\n%s' {CWD} \"$PWD\"; }} >| {saved}\nexit $__kiln_rc\n",
            saved = quote(&self.state_file("saved").to_string_lossy()),
        ));
        script
    }

    fn base_command(
        &self,
        script: &str,
        overrides: &[(String, String)],
        run_as: Option<&RunAs>,
    ) -> Command {
        let mut cmd = Command::new(&self.config.program);
        cmd.arg("-c").arg(script).env_clear().stdin(Stdio::null());
        let cwd = if self.cwd.is_dir() { &self.cwd } else { &self.config.src_dir };
        cmd.current_dir(cwd);
        if self.restore.is_some() {
            cmd.env("PWD", cwd);
        } else {
            cmd.envs(self.config.env.iter().map(|(k, v)| (k, v)));
            cmd.envs(overrides.iter().map(|(k, v)| (k, v)));
        }
        if let Some(user) = run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(user.uid).gid(user.gid);
            if self.restore.is_none() {
                cmd.env("HOME", &user.home).env("USER", &user.name).env("LOGNAME", &user.name);
            }
        }
        cmd
    }

    /// Writes the restore script: the saved state with `overrides` set over it.
    fn prepare(
        &mut self,
        overrides: &[(String, String)],
        run_as: Option<&RunAs>,
    ) -> io::Result<()> {
        if !self.persistent() {
            return Ok(());
        }
        let _ = std::fs::remove_file(self.state_file("saved"));
        if let Some((vars, exports)) = &self.saved {
            let mut extra = overrides.to_vec();
            if let Some(user) = run_as {
                extra.push(("HOME".into(), user.home.clone()));
                extra.push(("USER".into(), user.name.clone()));
            }
            let path = self.state_file("restore.sh");
            let _ = std::fs::remove_file(&path);
            std::fs::write(&path, restore_script(vars, exports, &extra))?;
            self.restore = Some(path);
        }
        Ok(())
    }

    /// Reads back what the command saved (0.2), if it saved anything.
    fn collect(&mut self) {
        if !self.persistent() {
            return;
        }
        let Ok(text) = std::fs::read_to_string(self.state_file("saved")) else { return };
        let exports_mark = format!("\n{EXPORTS}\n");
        let cwd_mark = format!("\n{CWD}\n");
        let (Some(e), Some(c)) = (text.rfind(&exports_mark), text.rfind(&cwd_mark)) else { return };
        if e > c {
            return;
        }
        self.saved =
            Some((text[..e + 1].to_owned(), text[e + exports_mark.len()..c + 1].to_owned()));
        self.cwd = PathBuf::from(&text[c + cwd_mark.len()..]);
        if self.restore.is_none() {
            self.restore = Some(self.state_file("restore.sh"));
        }
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
    ) -> io::Result<Exit> {
        self.prepare(overrides, run_as)?;
        let script = self.script(command);
        let mut cmd = self.base_command(&format!("exec 2>&1\n{script}"), overrides, run_as);
        {
            use std::os::unix::process::CommandExt;
            cmd.stdout(Stdio::piped()).stderr(Stdio::null()).process_group(0);
        }
        let mut child = cmd.spawn()?;
        drop(cmd);
        let reader = child.stdout.take().ok_or_else(|| io::Error::other("no stdout pipe"))?;
        let ended = sink.forward(reader);
        let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        self.groups.push(pid);
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let exit = loop {
            let slice = deadline
                .map_or(Duration::from_millis(100), |d| d.saturating_duration_since(Instant::now()))
                .min(Duration::from_millis(100));
            match rx.recv_timeout(slice) {
                Ok(status) => break Exit::Code(exit_code(&status?)),
                Err(RecvTimeoutError::Disconnected) => break Exit::Code(-1),
                Err(RecvTimeoutError::Timeout) => {
                    let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
                    if timed_out || self.stop.is_set() {
                        terminate(pid, || rx.recv_timeout(GRACE).is_ok());
                        self.kill_all();
                        break if timed_out { Exit::TimedOut } else { Exit::Stopped };
                    }
                }
            }
        };
        let _ = ended.recv_timeout(DRAIN);
        if matches!(exit, Exit::Code(_)) {
            self.collect();
        }
        Ok(exit)
    }

    /// Kills every process group this build started (SIGKILL), background children included.
    pub fn kill_all(&self) {
        for pid in &self.groups {
            let _ = killpg(Pid::from_raw(*pid), Signal::SIGKILL);
        }
    }

    /// The current values of `names` (unset → `None`), in the build's shell state.
    pub fn query(&mut self, names: &[String]) -> io::Result<Vec<Option<String>>> {
        self.prepare(&[], None)?;
        let mut script = self.restore_line();
        script.push_str("printf '%s\\0'");
        for name in names.iter().filter(|n| super::is_identifier(n)) {
            script.push_str(&format!(" \"${{{name}+1}}\" \"${{{name}-}}\""));
        }
        script.push('\n');
        let out = self.base_command(&script, &[], None).stderr(Stdio::null()).output()?;
        let mut fields =
            out.stdout.split(|b| *b == 0).map(|f| String::from_utf8_lossy(f).into_owned());
        Ok(names
            .iter()
            .map(|name| {
                if !super::is_identifier(name) {
                    return None;
                }
                let set = fields.next().unwrap_or_default();
                let value = fields.next().unwrap_or_default();
                (set == "1").then_some(value)
            })
            .collect())
    }

    /// The exported environment in the build's shell state (for evaluating artifact names and
    /// cache keys); the initial environment before any command saved state (always, in 0.1,
    /// where every command starts from it) or if the shell cannot say.
    pub fn env_snapshot(&mut self) -> Vec<(String, String)> {
        if self.restore.is_none() {
            return self.config.env.clone();
        }
        let _ = self.prepare(&[], None);
        let mut script = self.restore_line();
        script.push_str("exec env -0\n");
        match self.base_command(&script, &[], None).stderr(Stdio::null()).output() {
            Ok(out) if out.status.success() => out
                .stdout
                .split(|b| *b == 0)
                .filter_map(|e| {
                    let e = String::from_utf8_lossy(e);
                    e.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))
                })
                .filter(|(k, _)| k != "PWD" && k != "SHLVL" && k != "_")
                .collect(),
            _ => self.config.env.clone(),
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

/// SIGTERM to the group, then SIGKILL unless `exited` says the leader is gone within the grace.
fn terminate(pid: i32, exited: impl FnOnce() -> bool) {
    let group = Pid::from_raw(pid);
    let _ = killpg(group, Signal::SIGTERM);
    let _ = exited();
    let _ = killpg(group, Signal::SIGKILL);
}

fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(-1)
}
