//! A handler's failure as Lambda sees it: a [`Diagnostic`] whose `errorType` says whether the
//! same event may succeed later (`kiln.Retryable`: a port was throttled or unavailable, a
//! record kept changing) or never will (`kiln.Permanent`: an event that is not ours, a payload
//! that cannot be read, access denied).
//!
//! Lambda retries every failed asynchronous invocation (EventBridge rules and CloudWatch Logs
//! subscriptions invoke asynchronously) whatever its error says, so [`settle`] fails the
//! invocation only for a retryable error; a permanent one is logged as an error and answered as
//! handled, with the error in the reply, so nothing retries what cannot succeed.

use kiln_core::ports::PortError;
use lambda_runtime::Diagnostic;

/// Whether an error may go away by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Trying the same event again later may succeed.
    Retryable,
    /// It never will.
    Permanent,
}

impl ErrorClass {
    /// The Diagnostic's `errorType`.
    pub fn error_type(self) -> &'static str {
        match self {
            Self::Retryable => "kiln.Retryable",
            Self::Permanent => "kiln.Permanent",
        }
    }
}

/// Why a handler could not do what an event asked.
#[derive(Debug, thiserror::Error)]
#[error("{}", kiln_core::error_chain(self.source.as_ref()))]
pub struct HandlerError {
    /// Whether retrying may help.
    pub class: ErrorClass,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl HandlerError {
    /// A failure that retrying may cure.
    pub fn retryable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { class: ErrorClass::Retryable, source: source.into() }
    }

    /// A failure that retrying cannot cure.
    pub fn permanent(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { class: ErrorClass::Permanent, source: source.into() }
    }

    /// `source`, retryable when `retryable` says so.
    pub fn classed(
        retryable: bool,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        if retryable { Self::retryable(source) } else { Self::permanent(source) }
    }

    /// Whether retrying may help.
    pub fn is_retryable(&self) -> bool {
        self.class == ErrorClass::Retryable
    }
}

impl From<PortError> for HandlerError {
    fn from(error: PortError) -> Self {
        Self::classed(error.is_retryable(), error)
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Self {
        Self { error_type: error.class.error_type().to_owned(), error_message: error.to_string() }
    }
}

/// The invocation's answer for a handler's result (see the module docs): the outcome as JSON,
/// a permanent failure as `{"error": …, "errorType": "kiln.Permanent"}` after logging it, a
/// retryable one as a failed invocation.
///
/// # Errors
/// The [`Diagnostic`] of a retryable failure.
pub fn settle<T: serde::Serialize>(
    result: Result<T, HandlerError>,
) -> Result<serde_json::Value, Diagnostic> {
    match result {
        Ok(outcome) => Ok(serde_json::to_value(outcome).unwrap_or(serde_json::Value::Null)),
        Err(error) if error.is_retryable() => {
            tracing::warn!(error = %error, "failed; the event will be retried");
            Err(error.into())
        }
        Err(error) => {
            tracing::error!(error = %error, "failed; retrying cannot help, the event is dropped");
            Ok(serde_json::json!({
                "error": error.to_string(),
                "errorType": ErrorClass::Permanent.error_type(),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::ports::PortErrorKind;

    #[test]
    fn only_retryable_failures_fail_the_invocation() {
        let retry = HandlerError::from(PortError::new(PortErrorKind::Throttled, "read x"));
        let diagnostic = settle::<()>(Err(retry)).expect_err("a failed invocation");
        assert_eq!(diagnostic.error_type, "kiln.Retryable");
        assert_eq!(diagnostic.error_message, "read x: throttled (retry later)");
        let dropped = HandlerError::from(PortError::new(PortErrorKind::Permanent, "read y"));
        let answer = settle::<()>(Err(dropped)).expect("handled");
        assert_eq!(answer["errorType"], "kiln.Permanent");
        assert_eq!(settle(Ok(3)).ok(), Some(serde_json::json!(3)));
    }
}
