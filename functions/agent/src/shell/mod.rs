//! Running buildspec commands: one shell process per command, each in its own process group,
//! with the shell state carried between commands for buildspec 0.2 in kiln's memory.

mod child;
mod decode;
mod env;
mod session;
mod state;

pub use env::{EnvError, check as check_env, retain_valid as retain_valid_env};
pub use session::{Exit, RunAs, RunAsError, ShellConfig, ShellError, ShellSession, StopFlag};
pub use state::{is_identifier, quote};
