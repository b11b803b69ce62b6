//! Writing a command's result to stdout and its notes to stderr, ending quietly when the
//! reader has gone away; an error and its causes as one line ([`chain`]).
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

/// An error and its causes in one line, joined with `: `, as a command reports it. A cause
/// whose text the line already holds is not repeated: an error that shows its source in the
/// middle of its own message (`FILE: CAUSE; --event-name is push`) keeps the source for
/// callers that walk it, and the line says it once. (The core's
/// [`kiln_core::error_chain`] drops a cause only when the line ends with it.)
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !cause_text.is_empty() && !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Writes one line to stderr. A failure is ignored: stderr is where failures are reported,
/// so there is nowhere left to report this one, and it must not end the command.
pub fn note(line: &str) {
    // Deliberately unchecked: see above.
    let _ = writeln!(io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("f.json: {0}; --event-name is push")]
    struct Inside(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read f.json")]
    struct Outside(#[source] std::io::Error);

    #[test]
    fn a_cause_is_said_once_wherever_the_line_says_it() {
        let inside = Inside(std::io::Error::other("looks like a pull_request"));
        assert_eq!(chain(&inside), "f.json: looks like a pull_request; --event-name is push");
        let outside = Outside(std::io::Error::other("no such file"));
        assert_eq!(chain(&outside), "cannot read f.json: no such file");
    }
}
