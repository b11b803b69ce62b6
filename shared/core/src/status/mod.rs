//! Commit status mapping and templating.

mod describe;
mod template;

pub use crate::build::{CommitState, commit_state, commit_status};
pub use describe::{PageLinks, describe, truncate};
pub use template::{default_context, expand, status_target};
