//! Every AWS SDK error mapped to a [`PortErrorKind`], in one place.
//!
//! | what AWS answered | kind |
//! |---|---|
//! | a throttling code (`Throttling`, `ThrottlingException`, `SlowDown`, `TooManyRequestsException`, …) or HTTP 429 | `Throttled` |
//! | a transient code (`InternalError`, `ServiceUnavailable`, ECS `ServerException`, …), HTTP 5xx, no answer (dispatch failure, time-out) or an unreadable answer | `Unavailable` |
//! | `NoSuchKey`, `NotFound`, `ResourceNotFoundException`, `ParameterNotFound`, `ParameterVersionNotFound`, or HTTP 404 with another code | `NotFound` |
//! | HTTP 412 (`PreconditionFailed`) or `ConditionalRequestConflict` (HTTP 409) | `Conflict` |
//! | anything else (denied, invalid, a missing bucket or cluster) | `Permanent` |
//!
//! `NoSuchBucket` is `Permanent`, not `NotFound`: a missing bucket is a broken installation, and
//! callers read `NotFound` as "no such object yet". The error kept as the source carries the
//! service's code, HTTP status and message, never the raw response (whose body could hold
//! anything the service echoed).

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use kiln_core::ports::{PortError, PortErrorKind};

/// An AWS call that failed: the service's error code, HTTP status and message when it answered.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct AwsError {
    /// The service's error code (`NoSuchKey`, `ThrottlingException`), when it answered with one.
    pub code: Option<String>,
    /// The HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    /// The service's message, or what went wrong on the way.
    pub message: Option<String>,
    /// The SDK's error (the modeled service error, without the raw response).
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AwsError {
    fn describe(&self) -> String {
        let mut text = match (&self.code, self.status) {
            (Some(code), Some(status)) => format!("aws answered {code} (http {status})"),
            (Some(code), None) => format!("aws answered {code}"),
            (None, Some(status)) => format!("aws answered http {status}"),
            (None, None) => "no answer from aws".to_owned(),
        };
        if let Some(message) = self.message.as_deref().filter(|m| !m.is_empty()) {
            text.push_str(": ");
            text.push_str(message);
        }
        text
    }
}

/// The kind of an error with `code` and HTTP `status` (see the module docs).
pub fn classify(code: Option<&str>, status: Option<u16>) -> PortErrorKind {
    const THROTTLED: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    ];
    const TRANSIENT: &[&str] = &[
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServerException",
        "OperationAborted",
        "TransactionInProgressException",
    ];
    const NOT_FOUND: &[&str] = &[
        "NoSuchKey",
        "NotFound",
        "ResourceNotFoundException",
        "ParameterNotFound",
        "ParameterVersionNotFound",
    ];
    const PERMANENT: &[&str] = &["NoSuchBucket"];
    if let Some(code) = code {
        if THROTTLED.contains(&code) {
            return PortErrorKind::Throttled;
        }
        if TRANSIENT.contains(&code) {
            return PortErrorKind::Unavailable;
        }
        if NOT_FOUND.contains(&code) {
            return PortErrorKind::NotFound;
        }
        if code == "PreconditionFailed" || code == "ConditionalRequestConflict" {
            return PortErrorKind::Conflict;
        }
        if PERMANENT.contains(&code) {
            return PortErrorKind::Permanent;
        }
    }
    match status {
        Some(429) => PortErrorKind::Throttled,
        Some(412) => PortErrorKind::Conflict,
        Some(404) => PortErrorKind::NotFound,
        Some(s) if s >= 500 => PortErrorKind::Unavailable,
        _ => PortErrorKind::Permanent,
    }
}

/// The [`AwsError`] of an SDK error, and its kind.
pub fn aws_error<E>(error: SdkError<E, HttpResponse>) -> (PortErrorKind, AwsError)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    let text = chain(&error);
    match error {
        SdkError::ServiceError(context) => {
            let service = context.into_err();
            let code = service.code().map(str::to_owned);
            let message = service.message().map(str::to_owned);
            let kind = classify(code.as_deref(), status);
            (kind, AwsError { code, status, message, source: Some(Box::new(service)) })
        }
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_user() {
                PortErrorKind::Permanent
            } else {
                PortErrorKind::Unavailable
            };
            let message = Some(format!("the request was not sent: {text}"));
            (kind, AwsError { code: None, status: None, message, source: None })
        }
        SdkError::TimeoutError(_) => {
            let message = Some("the request timed out".to_owned());
            (PortErrorKind::Unavailable, AwsError { code: None, status, message, source: None })
        }
        SdkError::ResponseError(_) => {
            let message = Some(format!("the answer could not be read: {text}"));
            (PortErrorKind::Unavailable, AwsError { code: None, status, message, source: None })
        }
        _ => {
            let message = Some(text);
            (PortErrorKind::Permanent, AwsError { code: None, status, message, source: None })
        }
    }
}

/// A [`PortError`] for an SDK error while doing `operation` (a lowercase fragment naming what
/// was done: `put object bucket/key`, `describe task arn:…`; never a secret value).
pub fn port_error<E>(operation: impl fmt::Display, error: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (kind, error) = aws_error(error);
    PortError::new(kind, operation).with_source(error)
}

/// The code AWS answered with, if the SDK error is a service error.
pub fn service_code<E>(error: &SdkError<E, HttpResponse>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ServiceError(context) => context.err().code(),
        _ => None,
    }
}

/// An error and its sources as one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(Some("SlowDown"), Some(503), PortErrorKind::Throttled)]
    #[test_case(Some("ThrottlingException"), Some(400), PortErrorKind::Throttled)]
    #[test_case(Some("TooManyRequestsException"), Some(400), PortErrorKind::Throttled)]
    #[test_case(None, Some(429), PortErrorKind::Throttled)]
    #[test_case(Some("InternalError"), Some(500), PortErrorKind::Unavailable)]
    #[test_case(Some("ServerException"), Some(500), PortErrorKind::Unavailable)]
    #[test_case(None, Some(502), PortErrorKind::Unavailable)]
    #[test_case(Some("NoSuchKey"), Some(404), PortErrorKind::NotFound)]
    #[test_case(Some("NotFound"), Some(404), PortErrorKind::NotFound)]
    #[test_case(Some("ResourceNotFoundException"), Some(400), PortErrorKind::NotFound)]
    #[test_case(Some("ParameterNotFound"), Some(400), PortErrorKind::NotFound)]
    #[test_case(None, Some(404), PortErrorKind::NotFound)]
    #[test_case(Some("NoSuchBucket"), Some(404), PortErrorKind::Permanent)]
    #[test_case(Some("PreconditionFailed"), Some(412), PortErrorKind::Conflict)]
    #[test_case(None, Some(412), PortErrorKind::Conflict)]
    #[test_case(Some("ConditionalRequestConflict"), Some(409), PortErrorKind::Conflict)]
    #[test_case(Some("AccessDenied"), Some(403), PortErrorKind::Permanent)]
    #[test_case(Some("InvalidParameterException"), Some(400), PortErrorKind::Permanent)]
    #[test_case(None, None, PortErrorKind::Permanent)]
    fn kinds(code: Option<&str>, status: Option<u16>, kind: PortErrorKind) {
        assert_eq!(classify(code, status), kind);
    }

    #[test]
    fn the_error_reads_as_a_fragment() {
        let e = AwsError {
            code: Some("NoSuchKey".into()),
            status: Some(404),
            message: Some("The specified key does not exist.".into()),
            source: None,
        };
        assert_eq!(
            e.to_string(),
            "aws answered NoSuchKey (http 404): The specified key does not exist."
        );
        let e = AwsError { code: None, status: None, message: None, source: None };
        assert_eq!(e.to_string(), "no answer from aws");
    }
}
