//! Commit status mapping and templating.

mod describe;
mod state;
mod template;

pub use describe::{PageLinks, describe, truncate};
pub use state::{CommitState, commit_state, commit_status};
pub use template::{default_context, expand, status_target};
