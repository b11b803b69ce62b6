//! One command's shell process and its pipes: its script written on its stdin, its output
//! forwarded to the log, the state frame it writes read from its state pipe, its exit awaited
//! without reaping it (its owner reaps it, so its pid and process group stay reserved until
//! kiln is done with them).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};

use nix::fcntl::OFlag;

use super::session::{RunAs, ShellError};
use super::state::Markers;
use crate::output::LogSink;
use crate::process::{self, ProcessError, Processes};

/// The largest state frame kiln keeps (a larger one is read and dropped, so the shell never
/// blocks writing it): [INF] far above any real build's variables.
const FRAME_LIMIT: usize = 64 << 20;

/// What the state pipe gave.
#[derive(Debug)]
pub(super) enum Frame {
    /// A whole frame.
    Complete(Vec<u8>),
    /// The pipe closed before a whole frame (the command `exit`ed).
    Incomplete,
    /// The frame was larger than [`FRAME_LIMIT`].
    TooLarge,
}

/// A started command.
pub(super) struct Running {
    /// The shell.
    pub child: Child,
    /// Its pid, also its process group.
    pub pid: i32,
    /// Gets a message once its output pipe reached its end.
    pub log_ended: Receiver<()>,
    /// Gets the state frame (0.2).
    pub frame: Option<Receiver<Frame>>,
    /// Gets how writing the script went and then that the shell exited.
    pub exited: Receiver<(std::io::Result<()>, Result<(), ProcessError>)>,
}

fn pipe() -> Result<(OwnedFd, OwnedFd), ShellError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(ShellError::Pipe)
}

/// Starts `cmd` (a shell whose `-c` text reads its script from stdin) as a root of
/// `processes`, in a process group of its own, with `script` on stdin, stdout and stderr on
/// one pipe forwarded to `sink` (stderr on a state pipe instead when `markers` is given).
/// The pipes a `run_as` user's shell reopens (`/dev/stdin`, `/dev/stdout`) are given to it.
pub(super) fn start(
    mut cmd: Command,
    script: Vec<u8>,
    run_as: Option<&RunAs>,
    markers: Option<&Markers>,
    processes: &Processes,
    sink: &LogSink,
) -> Result<Running, ShellError> {
    use std::os::unix::process::CommandExt;
    let (stdin_r, stdin_w) = pipe()?;
    let (out_r, out_w) = pipe()?;
    if let Some(user) = run_as {
        for fd in [&stdin_r, &out_w] {
            std::os::unix::fs::fchown(fd, Some(user.uid), Some(user.gid))
                .map_err(|source| ShellError::GivePipe { user: user.name.clone(), source })?;
        }
    }
    let state = match markers {
        Some(_) => {
            let (r, w) = pipe()?;
            cmd.stderr(Stdio::from(w));
            Some(r)
        }
        None => {
            cmd.stderr(Stdio::null());
            None
        }
    };
    cmd.stdin(Stdio::from(stdin_r)).stdout(Stdio::from(out_w)).process_group(0);
    let child = processes.spawn(&mut cmd)?;
    drop(cmd);
    let pid = process::pid_of(&child);
    let log_ended = sink.forward(File::from(out_r));
    let frame = state.zip(markers).map(|(r, m)| read_frame(File::from(r), m.clone()));
    let (tx, exited) = channel();
    std::thread::spawn(move || {
        let written = write_script(File::from(stdin_w), &script);
        // The receiver is gone only when the session gave up on this command.
        let _ = tx.send((written, process::wait_exited(pid)));
    });
    Ok(Running { child, pid, log_ended, frame, exited })
}

/// Writes the whole script; a shell that exits before reading all of it is no error.
fn write_script(mut stdin: File, script: &[u8]) -> std::io::Result<()> {
    match stdin.write_all(script) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Reads the state pipe on a thread of its own until a whole frame came, or its end.
fn read_frame(mut pipe: File, markers: Markers) -> Receiver<Frame> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut frame = Vec::new();
        let mut chunk = vec![0u8; 1 << 16];
        let mut too_large = false;
        let keep = markers.end.len() + 2;
        let result = loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break if too_large { Frame::TooLarge } else { Frame::Incomplete },
                Ok(n) => {
                    frame.extend_from_slice(&chunk[..n]);
                    if markers.complete(&frame) {
                        break if too_large { Frame::TooLarge } else { Frame::Complete(frame) };
                    }
                    if frame.len() > FRAME_LIMIT {
                        too_large = true;
                        frame.drain(..frame.len() - keep);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break Frame::Incomplete,
            }
        };
        // The receiver is gone only when the session gave up on this command.
        let _ = tx.send(result);
    });
    rx
}
