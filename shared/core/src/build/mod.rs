//! The build record: ids and numbers, the phase state machine and the build's environment.

mod duration;
mod env;
mod identity;
mod machine;
mod numbers;
mod phase;
mod phase_run;

pub use duration::{DurationError, parse_duration};
pub use env::{EnvInputs, EnvWarning, HomeMode, assemble_env};
pub use identity::BuildIdentity;
pub use machine::{BuildMachine, next_after};
pub use numbers::{next_build_number, parse_build_number};
pub use phase::{PhaseContext, PhaseEnd, PhaseRecord, PhaseType, Status};
pub use phase_run::{PhaseRun, Step};
