//! `kiln-agent`: the entry point of a build's container (a Fargate task) or child process
//! (`kiln serve`). Runs the build description it is given, prints the log on stdout, hands the
//! summary to the build store; exits 0 when the build succeeded, 1 when it did not, 2 when it
//! could not start. Called as `codebuild-hash-files` or `kiln-hash-files` (links the agent puts
//! on the build's `PATH`), it is that tool.

use std::process::ExitCode;

use clap::Parser;

mod config;
mod local;
mod task;
mod wiring;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = kiln_agent::tools::dispatch(&args) {
        return code;
    }
    let config = config::Config::parse_from(args);
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("kiln-agent: start the runtime: {e}");
                return ExitCode::from(2);
            }
        };
    match runtime.block_on(wiring::run(config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kiln-agent: {}", kiln_core::error_chain(&e));
            ExitCode::from(2)
        }
    }
}
