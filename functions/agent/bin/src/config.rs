//! The agent's configuration, read once: its arguments (what a runner's command or RunTask's
//! overrides say), and the source credential a local runner may put in its environment
//! (`KILN_GIT_TOKEN`; every `KILN_*` variable is kept from a build's commands).

use std::path::PathBuf;

/// Runs one kiln build description.
#[derive(Debug, clap::Parser)]
#[command(
    name = "kiln-agent",
    version,
    about = "Runs one kiln build description: the entry point of a build's container or child process",
    after_help = "The log goes to stdout. The summary goes to the build store (DATA_DIR/builds/<project>/<number>/summary.json with --data-dir) and, with --summary, to FILE.\n\nExit status: 0 when the build SUCCEEDED, 1 when it did not, 2 when it could not start (an unreadable description, no store)."
)]
pub struct Config {
    /// The build description (JSON, as a runner writes it).
    #[arg(long, value_name = "FILE")]
    pub description: PathBuf,
    /// The data directory of a local installation: objects under DATA_DIR/s3, build state under
    /// DATA_DIR/builds.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Values of the build's parameter-store and secrets-manager variables: NAME=VALUE lines.
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// Also write the summary to this file.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

/// The credential that fetches a git source, when the runner gave one.
pub fn git_token() -> Option<secrecy::SecretString> {
    std::env::var("KILN_GIT_TOKEN").ok().filter(|t| !t.is_empty()).map(secrecy::SecretString::from)
}
