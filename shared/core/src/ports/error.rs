//! The error every port returns, with a kind the core decides retries on.

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

    /// The kind in words, as errors show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not found",
            Self::Conflict => "conflict (changed or created meanwhile)",
            Self::Throttled => "throttled (retry later)",
            Self::Unavailable => "unavailable (retry later)",
            Self::Permanent => "refused",
        }
    }
}

impl fmt::Display for PortErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a port: its kind, what was being done, and the underlying cause.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {kind}")]
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

    /// Whether trying the same call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

/// A boxed future returned by port methods, so ports can be used as trait objects.
pub type PortFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, PortError>> + Send + 'a>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_reads_as_words() {
        let e = PortError::new(PortErrorKind::NotFound, "get object b/k");
        assert_eq!(e.to_string(), "get object b/k: not found");
        assert!(!e.is_retryable());
        assert!(PortError::new(PortErrorKind::Throttled, "x").is_retryable());
    }
}
