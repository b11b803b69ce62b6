//! Commit status mapping and templating.

mod state;
mod template;

pub use state::{CommitState, commit_status};
pub use template::{default_context, expand, status_target};
