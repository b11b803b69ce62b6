//! `kiln validate`.

use std::process::ExitCode;

/// Arguments of `kiln validate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `kiln validate`.
pub fn run(_args: &Args) -> ExitCode {
    eprintln!("kiln validate: not available yet");
    ExitCode::from(2)
}
