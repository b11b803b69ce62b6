//! Evaluating `artifacts.name` and `cache.key` the way the build's shell would.
//!
//! The text is placed inside double quotes of `printf '%s' "<text>"` and run with the build's
//! shell, environment and working directory, so `$VAR`, `${VAR}` and `$(command)` expand as
//! in a command, and the result is taken without a trailing newline. A literal `"` or `\` in
//! the text keeps its shell meaning inside double quotes (write `\"` for a quote) [INF].
//!
//! The evaluation is a step of the build like a command: it runs in a process group of its
//! own, ends with the build's deadline or a stop, and whatever it started (a background
//! `$(sleep 1000 &)` included) is killed when it is done. kiln never waits for the end of its
//! output pipe once the shell has exited: a background child may hold it open.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::process::{self, ProcessError, Processes};
use crate::shell::StopFlag;

/// The longest result kept [INF: a name or key is a path component, not a document].
const LIMIT: usize = 1 << 20;

/// How long to wait for the rest of the output once the shell has exited.
const DRAIN: Duration = Duration::from_millis(100);

/// Why a text could not be evaluated. Never carries the environment or the output, which may
/// hold secrets.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The shell could not be started, waited for or its processes killed.
    #[error("run {shell}")]
    Process {
        /// The shell program.
        shell: String,
        /// The cause.
        #[source]
        source: ProcessError,
    },
    /// The shell exited with a failure.
    #[error("the shell exited with {status}")]
    Failed {
        /// How it exited.
        status: std::process::ExitStatus,
    },
    /// The build's deadline passed first.
    #[error("the build timed out")]
    TimedOut,
    /// The build was stopped first.
    #[error("the build was stopped")]
    Stopped,
    /// The result is longer than kiln keeps.
    #[error("the result is longer than {LIMIT} bytes")]
    TooLong,
}

/// Expands `text` with `shell` in `cwd` with exactly the environment `env`, ending it when
/// `deadline` passes or `stop` is set.
pub fn eval(
    shell: &str,
    env: &[(String, String)],
    cwd: &Path,
    text: &str,
    deadline: Option<Instant>,
    stop: &StopFlag,
) -> Result<String, ShellError> {
    use std::os::unix::process::CommandExt;
    let ended = || {
        if stop.is_set() {
            Some(ShellError::Stopped)
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            Some(ShellError::TimedOut)
        } else {
            None
        }
    };
    if let Some(e) = ended() {
        return Err(e);
    }
    let failed = |source| ShellError::Process { shell: shell.to_owned(), source };
    let processes = Processes::for_step();
    let mut cmd = Command::new(shell);
    cmd.arg("-c")
        .arg(format!("printf '%s' \"{text}\""))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = processes.spawn(&mut cmd).map_err(failed)?;
    drop(cmd);
    let chunks = child.stdout.take().map(|mut out| {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                match out.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(chunk[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
        rx
    });
    let pid = process::pid_of(&child);
    let (tx, exited) = channel();
    std::thread::spawn(move || {
        // The receiver is gone only when the evaluation gave up.
        let _ = tx.send(process::wait_exited(pid));
    });
    let mut output = Vec::new();
    let mut too_long = false;
    let mut take = |chunk: Vec<u8>| {
        if output.len() + chunk.len() > LIMIT {
            too_long = true;
        } else {
            output.extend_from_slice(&chunk);
        }
    };
    let outcome = loop {
        if let Some(rx) = &chunks {
            while let Ok(chunk) = rx.try_recv() {
                take(chunk);
            }
        }
        match exited.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => break result.map_err(failed),
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(e) = ended() {
                    processes.kill_all().map_err(failed)?;
                    // Only the shell's exit is awaited; it was just killed.
                    let _ = exited.recv();
                    processes.reap(&mut child).map_err(failed)?;
                    return Err(e);
                }
            }
        }
    };
    processes.kill_all().map_err(failed)?;
    let status = processes.reap(&mut child).map_err(failed)?;
    outcome?;
    if let Some(rx) = &chunks {
        while let Ok(chunk) = rx.recv_timeout(DRAIN) {
            take(chunk);
        }
    }
    if too_long {
        return Err(ShellError::TooLong);
    }
    if !status.success() {
        return Err(ShellError::Failed { status });
    }
    Ok(String::from_utf8_lossy(&output).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_and_command_substitutions_expand() {
        let env = vec![
            ("CODEBUILD_BUILD_NUMBER".to_owned(), "7".to_owned()),
            ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
        ];
        let dir = tempfile::tempdir().expect("dir");
        let stop = StopFlag::default();
        let eval = |text: &str| eval("sh", &env, dir.path(), text, None, &stop);
        let got = eval("builds/$CODEBUILD_BUILD_NUMBER/$(echo my-artifacts)").expect("eval");
        assert_eq!(got, "builds/7/my-artifacts");
        assert_eq!(eval("a b  c").expect("eval"), "a b  c");
        assert!(matches!(eval("$(exit 3"), Err(ShellError::Failed { .. })));
    }

    #[test]
    fn a_background_child_ends_with_the_deadline_and_a_stop() {
        let env = vec![("PATH".to_owned(), std::env::var("PATH").unwrap_or_default())];
        let dir = tempfile::tempdir().expect("dir");
        let stop = StopFlag::default();
        let started = Instant::now();
        let deadline = Some(Instant::now() + Duration::from_millis(500));
        let got = eval("sh", &env, dir.path(), "x$(sleep 1000 &)", deadline, &stop);
        assert!(matches!(got, Err(ShellError::TimedOut)), "{got:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        stop.stop();
        let got = eval("sh", &env, dir.path(), "x$(sleep 1000)", None, &stop);
        assert!(matches!(got, Err(ShellError::Stopped)), "{got:?}");
        let text = format!("y$(sleep 1000 > /dev/null & echo $! > {}/a)", dir.path().display());
        let got = eval("sh", &env, dir.path(), &text, None, &StopFlag::default());
        assert_eq!(got.expect("eval"), "y");
        let text = format!("\"; sleep 1000 & echo $! > {}/b; printf z \"", dir.path().display());
        let held = eval("sh", &env, dir.path(), &text, None, &StopFlag::default());
        assert_eq!(held.expect("eval"), "z");
        std::thread::sleep(Duration::from_millis(100));
        for name in ["a", "b"] {
            let pid = std::fs::read_to_string(dir.path().join(name)).expect("pid");
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
            assert!(stat.ok().is_none_or(|s| s.contains(") Z ")), "{name}: {pid} survived");
        }
    }
}
