//! Where build notifications go (the default EventBridge bus).

use super::PortFuture;
use crate::notify::BuildStateChange;

/// Announces build transitions to whoever listens (EventBridge rules in the cloud).
///
/// Contract:
/// - the services call [`BuildEvents::publish`] after the record of a transition is stored:
///   `IN_PROGRESS` once a build's task has started, then its terminal status once, in that
///   order (a build that never started announces only its end);
/// - delivery is best effort, as CodeBuild's own notifications are: a failed publish is logged
///   by the service and not retried, and never changes the build or its commit status;
/// - publishing the same change twice is harmless to kiln (listeners should expect it, as
///   EventBridge delivers at least once);
/// - `Throttled` and `Unavailable` mean the bus could not be reached now.
pub trait BuildEvents: Send + Sync {
    /// Puts `change` on the bus.
    fn publish<'a>(&'a self, change: &'a BuildStateChange) -> PortFuture<'a, ()>;
}
