//! Builds: the record a store keeps, the description a runner hands the agent and the summary
//! the agent hands back (the wire contracts, serde both ways, versioned), ids and numbers, the
//! phase state machine, and the build's environment.

mod commit_state;
mod description;
mod duration;
mod env;
mod identity;
pub mod layout;
mod machine;
mod name_value;
mod numbers;
mod phase;
mod phase_run;
mod record;
mod summary;
pub mod timestamp;

pub use commit_state::{CommitState, commit_state, commit_status};
pub use description::{BuildDescription, DESCRIPTION_FORMAT, DescriptionError};
pub use duration::{DurationError, MAX_TIMEOUT, parse_duration};
pub use env::{EnvInputs, EnvWarning, HomeMode, assemble_env};
pub use identity::BuildIdentity;
pub use machine::{BuildMachine, next_after};
pub use name_value::{NameValue, lookup};
pub use numbers::{next_build_number, parse_build_number};
pub use phase::{PhaseContext, PhaseEnd, PhaseRecord, PhaseType, Status};
pub use phase_run::{PhaseRun, Step};
pub use record::{
    Build, BuildEnvironment, BuildRef, BuildState, GitSource, RECORD_FORMAT, SourceSpec,
    StatusReport, TaskHandle, WebhookOrigin,
};
pub use summary::{
    BuildArtifacts, BuildLogs, BuildSummary, SUMMARY_FORMAT, SummaryEnvironment, SummaryError,
};
