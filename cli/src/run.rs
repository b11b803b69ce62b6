//! `kiln run`.

use std::process::ExitCode;

/// Arguments of `kiln run`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `kiln run`.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("kiln run: not available yet");
    ExitCode::from(2)
}
