//! What a function reads once from elsewhere (the webhook secret, kiln's GitHub credential)
//! without making its start wait for it.
//!
//! A [`Prefetch`] is read when first used, or begun in the background before that
//! ([`Prefetch::start`] as the function starts, [`Prefetch::begin`] once an event shows it will
//! be needed), so the read overlaps the Runtime API's first poll or whatever else the event
//! needs, and an event that never needs the value (a log subscription's control message, a
//! ping, a delivery with a bad signature) never waits for it. The first use awaits it; later
//! uses get it at once. A read that failed is logged and tried again at the next use, so one
//! throttled or interrupted read (Lambda freezes a function between invocations, a read in
//! flight included) does not fail every later one.
//!
//! A function's configuration (its variables) is still checked before it is ready, and a
//! wrong one still fails its initialisation (`report_init_error`); what is read through a
//! [`Prefetch`] fails the invocations that need it instead, with the error that says why.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::github::SetupError;

type Read<T> =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, SetupError>> + Send>> + Send + Sync>;

/// A value read in the background from the function's start; see the module docs.
pub struct Prefetch<T> {
    what: &'static str,
    value: OnceCell<T>,
    started: Mutex<Option<JoinHandle<Result<T, SetupError>>>>,
    read: Read<T>,
}

impl<T> std::fmt::Debug for Prefetch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefetch")
            .field("what", &self.what)
            .field("read", &self.value.initialized())
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Prefetch<T> {
    /// Starts reading `what` with `read` (on the current Tokio runtime; without one, the first
    /// use reads it).
    pub fn start<F, Fut>(what: &'static str, read: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, SetupError>> + Send + 'static,
    {
        let value = Self::later(what, read);
        value.begin();
        value
    }

    /// `what`, read with `read` when [`Prefetch::begin`] says so or at the first use.
    pub fn later<F, Fut>(what: &'static str, read: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, SetupError>> + Send + 'static,
    {
        let read: Read<T> = Arc::new(move || Box::pin(read()));
        Self { what, value: OnceCell::new(), started: Mutex::new(None), read }
    }

    /// Begins the read in the background (on the current Tokio runtime, if there is one),
    /// unless the value is there or a read is on its way.
    pub fn begin(&self) {
        let mut started = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        if self.value.initialized() || started.is_some() {
            return;
        }
        *started = tokio::runtime::Handle::try_current().ok().map(|rt| rt.spawn((self.read)()));
    }

    /// A value there from the start (tests, and values a function already has).
    pub fn ready(what: &'static str, value: T) -> Self {
        let read: Read<T> =
            Arc::new(move || Box::pin(async { unreachable!("a ready Prefetch is never read") }));
        Self { what, value: OnceCell::new_with(Some(value)), started: Mutex::new(None), read }
    }

    /// The value: the background read's, awaited if it is still on its way, or read now if it
    /// failed (or a use before failed).
    ///
    /// # Errors
    /// [`SetupError`] when the value cannot be read now; the next use tries again.
    pub async fn get(&self) -> Result<&T, SetupError> {
        self.value
            .get_or_try_init(|| async {
                let started = self.started.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some(task) = started {
                    match task.await {
                        Ok(Ok(value)) => return Ok(value),
                        Ok(Err(e)) => tracing::warn!(
                            error = %kiln_core::error_chain(&e),
                            "{}: the read begun at start failed; reading again", self.what
                        ),
                        Err(e) => tracing::warn!(
                            error = %e,
                            "{}: the read begun at start did not finish; reading again", self.what
                        ),
                    }
                }
                let read = (self.read)().await;
                if let Err(e) = &read {
                    tracing::error!(error = %kiln_core::error_chain(e), "{}: could not be read", self.what);
                }
                read
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use kiln_core::ports::{PortError, PortErrorKind};

    use super::*;

    fn failure() -> SetupError {
        SetupError::Secret {
            arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x".into(),
            source: PortError::new(PortErrorKind::Unavailable, "get secret value"),
        }
    }

    #[tokio::test]
    async fn reads_once_from_the_start_and_keeps_the_value() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = reads.clone();
        let value = Prefetch::start("the answer", move || {
            let counted = counted.clone();
            async move { Ok(counted.fetch_add(1, Ordering::SeqCst) + 42) }
        });
        assert_eq!(*value.get().await.expect("read"), 42);
        assert_eq!(*value.get().await.expect("kept"), 42);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_read_is_tried_again_at_each_use_until_it_succeeds() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = reads.clone();
        let value = Prefetch::start("a flaky secret", move || {
            let counted = counted.clone();
            async move {
                match counted.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(failure()),
                    n => Ok(n),
                }
            }
        });
        // The read begun at start failed, and so did the one the first use made again.
        let err = value.get().await.expect_err("two failures");
        assert!(matches!(err, SetupError::Secret { .. }), "{err:?}");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(*value.get().await.expect("the third read"), 2);
        assert_eq!(*value.get().await.expect("kept"), 2);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn without_a_runtime_the_first_use_reads() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = reads.clone();
        let value = Prefetch::start("late", move || {
            let counted = counted.clone();
            async move { Ok(counted.fetch_add(1, Ordering::SeqCst)) }
        });
        assert_eq!(reads.load(Ordering::SeqCst), 0);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        assert_eq!(runtime.block_on(async { *value.get().await.expect("read") }), 0);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_later_value_is_read_when_begun_and_only_once() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = reads.clone();
        let value = Prefetch::later("on demand", move || {
            let counted = counted.clone();
            async move { Ok(counted.fetch_add(1, Ordering::SeqCst)) }
        });
        tokio::task::yield_now().await;
        assert_eq!(reads.load(Ordering::SeqCst), 0, "read before it was begun");
        value.begin();
        value.begin();
        assert_eq!(*value.get().await.expect("read"), 0);
        value.begin();
        assert_eq!(*value.get().await.expect("kept"), 0);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_ready_value_is_never_read() {
        let value = Prefetch::ready("given", "x".to_owned());
        assert_eq!(value.get().await.expect("given"), "x");
    }
}
