//! kiln's ports on one machine: build state, objects and secrets as files on disk, the agent
//! run in this process or as child processes, statuses recorded.

mod archive;
mod builds;
mod events;
mod in_process;
mod local_build;
pub mod object_store;
mod process;
pub mod secrets;
mod source_host;
mod statuses;
mod unavailable;

pub use archive::FsLogArchive;
pub use builds::FsBuildStore;
pub use events::RecordingBuildEvents;
pub use in_process::InProcessTaskRunner;
pub use local_build::{LocalBuild, LocalBuildError, run_local_build};
pub use object_store::FsObjectStore;
pub use process::{AgentCommand, ProcessTaskRunner, STOP_GRACE, TaskEnded};
pub use secrets::FileSecretStore;
pub use source_host::LocalSourceHost;
pub use statuses::RecordingStatusReporter;
pub use unavailable::UnavailableObjectStore;
