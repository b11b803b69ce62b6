//! `kiln resolve`.

use std::process::ExitCode;

/// Arguments of `kiln resolve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `kiln resolve`.
pub fn run(_args: &Args) -> ExitCode {
    eprintln!("kiln resolve: not available yet");
    ExitCode::from(2)
}
