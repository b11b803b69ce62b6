//! Traits for everything outside the domain. Each adapter crate implements them: `kiln-local`
//! on one machine, `kiln-aws` and `kiln-github` in the cloud.
//!
//! Every port's doc comment is its contract: call order, idempotency, and which error kinds
//! mean "retry".

use std::fmt;

/// What went wrong at a port, in terms the core can decide retries on without knowing the
/// technology behind the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortErrorKind {
    /// The thing asked for does not exist. Not retryable.
    NotFound,
    /// A conditional write lost a race (the object exists, or changed). Not retryable as is.
    Conflict,
    /// The backend asked us to slow down. Retryable after a pause.
    Throttled,
    /// The backend could not be reached or failed transiently. Retryable.
    Unavailable,
    /// Anything else: bad input, denied access. Not retryable.
    Permanent,
}

impl PortErrorKind {
    /// Whether trying the same call again later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable)
    }
}

/// An error from a port: its kind, what was being done, and the underlying cause.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {kind:?}")]
pub struct PortError {
    /// What the core may do about it.
    pub kind: PortErrorKind,
    /// What the port was doing, as a lowercase fragment ("put object artifacts/a.zip").
    pub operation: String,
    /// The adapter's own error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl PortError {
    /// A new error of `kind` while doing `operation`.
    pub fn new(kind: PortErrorKind, operation: impl fmt::Display) -> Self {
        Self { kind, operation: operation.to_string(), source: None }
    }

    /// The same error with its underlying cause attached.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}
