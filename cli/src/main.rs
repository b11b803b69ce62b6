//! The `kiln` command: validate, run and resolve builds on this machine, serve a whole
//! installation, and import a catalog from CodeBuild.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod clean;
mod import;
mod input;
mod logging;
mod print;
mod resolve;
mod run;
mod runs;
mod schema;
mod serve;
mod settings;
mod validate;

/// CodeBuild-compatible CI for GitHub, on your AWS account or on this machine.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check buildspec files and report every problem with its line and column.
    Validate(validate::Args),
    /// Print a JSON Schema of buildspec.yml for editors.
    Schema(schema::Args),
    /// Run one build of a working tree on this machine, as the cloud would.
    Run(Box<run::Args>),
    /// Show which projects a GitHub delivery would build.
    Resolve(resolve::Args),
    /// Print a catalog of real CodeBuild projects (through the AWS API) for --config.
    Import(import::Args),
    /// Run the whole installation on this machine: webhooks, builds, statuses, build pages.
    Serve(Box<serve::Args>),
    /// List the builds kept in the data directory.
    Runs(runs::Args),
    /// Remove old builds from the data directory.
    Clean(clean::Args),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = kiln_agent::tools::dispatch(&args) {
        return code;
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Run(args) => run::run(*args),
        Command::Resolve(args) => resolve::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Serve(args) => serve::run(*args),
        Command::Runs(args) => runs::run(&args),
        Command::Clean(args) => clean::run(&args),
    }
}
