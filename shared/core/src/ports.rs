//! Traits for everything outside the domain. Each adapter crate implements them: `kiln-local`
//! on one machine, `kiln-aws` and `kiln-github` in the cloud.
//!
//! Every port's doc comment is its contract: call order, idempotency, and which error kinds
//! mean "retry". Ports return [`PortFuture`]s so they can be used as trait objects.

mod archive;
mod builds;
mod clock;
mod error;
mod events;
mod objects;
mod secrets;
mod source;
mod statuses;
mod tasks;

pub use archive::{ArchivedLog, LogArchive};
pub use builds::{BuildStore, Created};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{PortError, PortErrorKind, PortFuture};
pub use events::BuildEvents;
pub use objects::{ObjectInfo, ObjectStore, PutOptions};
pub use secrets::SecretStore;
pub use source::{MAX_FILE_BYTES, PullRequestDetails, SourceCredentials, SourceHost};
pub use statuses::{CommitStatus, MAX_DESCRIPTION_CHARS, StatusReporter};
pub use tasks::{BuildAgent, StopFlag, TaskRunner, TaskState, TaskStop};
