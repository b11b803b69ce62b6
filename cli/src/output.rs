//! Writing a command's result to standard output: a closed pipe (`kiln runs | head`) ends the
//! command quietly instead of with a panic.

use std::io::Write;
use std::process::ExitCode;

/// Prints `text`; a closed pipe is not an error.
pub fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln: write the output: {e}");
            ExitCode::from(2)
        }
    }
}
