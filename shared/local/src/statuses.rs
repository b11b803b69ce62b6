//! `RecordingStatusReporter`: the [`StatusReporter`] port keeping every status it is given, and
//! failing on demand, for tests and for local runs that post nowhere.

use std::sync::{Mutex, MutexGuard};

use kiln_core::ports::{CommitStatus, PortError, PortErrorKind, PortFuture, StatusReporter};

/// Keeps the statuses posted to it, in order.
#[derive(Debug, Default)]
pub struct RecordingStatusReporter {
    posted: Mutex<Vec<CommitStatus>>,
    failures: Mutex<Vec<PortErrorKind>>,
}

impl RecordingStatusReporter {
    /// A reporter that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next posts fail, one per kind given, in order.
    pub fn fail_next(&self, kinds: impl IntoIterator<Item = PortErrorKind>) {
        lock(&self.failures).extend(kinds);
    }

    /// Every status accepted so far, in order.
    pub fn posted(&self) -> Vec<CommitStatus> {
        lock(&self.posted).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl StatusReporter for RecordingStatusReporter {
    fn post<'a>(&'a self, status: &'a CommitStatus) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let failure = {
                let mut failures = lock(&self.failures);
                (!failures.is_empty()).then(|| failures.remove(0))
            };
            if let Some(kind) = failure {
                return Err(PortError::new(
                    kind,
                    format!("post status {} on {}", status.state, status.commit),
                ));
            }
            lock(&self.posted).push(status.clone());
            Ok(())
        })
    }
}
