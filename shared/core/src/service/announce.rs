//! Announcing a build's transition as a build state change (best effort, see
//! [`crate::ports::BuildEvents`]).

use crate::build::{Build, BuildSummary};
use crate::notify::BuildStateChange;

use super::Ports;

/// Publishes the state change `build` is at, with the agent's `summary` when there is one; a
/// failure is logged and changes nothing else.
pub(super) async fn announce(ports: Ports<'_>, build: &Build, summary: Option<&BuildSummary>) {
    let change = BuildStateChange::of(build, summary);
    if let Err(error) = ports.events.publish(&change).await {
        tracing::warn!(
            build = %build.build_ref(),
            status = %change.build_status,
            error = %crate::error_chain(&error),
            "build state change not announced"
        );
    }
}
