//! Running buildspec commands: one shell process per command, each in its own process group,
//! with the shell state carried between commands for buildspec 0.2.

mod session;
mod state;

pub use session::{Exit, RunAs, RunAsError, ShellConfig, ShellSession, StopFlag};
pub use state::{is_identifier, quote};
