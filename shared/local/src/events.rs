//! `RecordingBuildEvents`: the [`BuildEvents`] port keeping every build state change it is
//! given, and failing on demand; where `kiln serve` and `kiln run` announce builds (no bus runs
//! on one machine: the changes are kept in memory, for tests, and dropped).

use std::sync::{Mutex, MutexGuard};

use kiln_core::notify::BuildStateChange;
use kiln_core::ports::{BuildEvents, PortError, PortErrorKind, PortFuture};

/// Keeps the state changes published to it, in order.
#[derive(Debug, Default)]
pub struct RecordingBuildEvents {
    published: Mutex<Vec<BuildStateChange>>,
    failures: Mutex<Vec<PortErrorKind>>,
    keep: bool,
}

impl RecordingBuildEvents {
    /// A bus that keeps every change (for tests).
    pub fn new() -> Self {
        Self { keep: true, ..Self::default() }
    }

    /// A bus that accepts every change and keeps none (a long-running `kiln serve`).
    pub fn discarding() -> Self {
        Self::default()
    }

    /// Makes the next publishes fail, one per kind given, in order.
    pub fn fail_next(&self, kinds: impl IntoIterator<Item = PortErrorKind>) {
        lock(&self.failures).extend(kinds);
    }

    /// Every change accepted so far, in order.
    pub fn published(&self) -> Vec<BuildStateChange> {
        lock(&self.published).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl BuildEvents for RecordingBuildEvents {
    fn publish<'a>(&'a self, change: &'a BuildStateChange) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let failure = {
                let mut failures = lock(&self.failures);
                (!failures.is_empty()).then(|| failures.remove(0))
            };
            if let Some(kind) = failure {
                return Err(PortError::new(
                    kind,
                    format!("publish {} of {}", change.build_status, change.build_id),
                ));
            }
            if self.keep {
                lock(&self.published).push(change.clone());
            }
            Ok(())
        })
    }
}
