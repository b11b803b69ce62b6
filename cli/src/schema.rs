//! `kiln schema`.

use std::process::ExitCode;

/// Arguments of `kiln schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `kiln schema`.
pub fn run(_args: &Args) -> ExitCode {
    eprintln!("kiln schema: not available yet");
    ExitCode::from(2)
}
