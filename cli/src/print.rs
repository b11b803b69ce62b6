//! Writing a command's result to stdout and its notes to stderr, ending quietly when the
//! reader has gone away.
//!
//! `kiln resolve | head` closes the pipe before kiln is done writing, and `println!` panics on
//! the `EPIPE` that follows. Output goes through [`stdout`] instead: a closed pipe is
//! [`PrintError::Closed`], which a command answers with [`CLOSED_PIPE`] and no message. That is
//! the status a shell shows for a process that a `SIGPIPE` ended (128 + 13), as `git log | head`
//! ends [INF: Rust ignores `SIGPIPE`, so the write fails instead of the process dying, and kiln
//! forbids the unsafe code that restoring the default handler takes; to a shell or a script
//! testing `$?` the two are the same].

use std::io::{self, Write};
use std::process::ExitCode;

/// The exit status of a command whose stdout was closed: 128 + `SIGPIPE` (13).
pub const CLOSED_PIPE: u8 = 128 + 13;

/// Why a result could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The reader closed the pipe: nothing more can be shown, and nothing needs saying.
    #[error("stdout was closed")]
    Closed,
    /// Writing failed otherwise (a full disk, ...).
    #[error("cannot write the result")]
    Io(#[source] io::Error),
}

impl PrintError {
    /// The exit status for this failure, after saying what failed on stderr (for anything
    /// but a closed pipe): [`CLOSED_PIPE`] or `failed`.
    pub fn exit_code(&self, command: &str, failed: u8) -> ExitCode {
        match self {
            Self::Closed => ExitCode::from(CLOSED_PIPE),
            Self::Io(source) => {
                note(&format!("kiln {command}: {self}: {source}"));
                ExitCode::from(failed)
            }
        }
    }
}

/// Runs `write` on the locked stdout and flushes it; a broken pipe is [`PrintError::Closed`].
///
/// # Errors
/// [`PrintError`] when writing or flushing fails.
pub fn stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), PrintError> {
    let mut out = io::stdout().lock();
    write(&mut out).and_then(|()| out.flush()).map_err(|e| match e.kind() {
        io::ErrorKind::BrokenPipe => PrintError::Closed,
        _ => PrintError::Io(e),
    })
}

/// Writes one line to stderr. A failure is ignored: stderr is where failures are reported,
/// so there is nowhere left to report this one, and it must not end the command.
pub fn note(line: &str) {
    // Deliberately unchecked: see above.
    let _ = writeln!(io::stderr().lock(), "{line}");
}
