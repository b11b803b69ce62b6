//! What can go wrong talking to GitHub, and how each failure maps to a [`PortErrorKind`].

use std::time::Duration;

use http::StatusCode;
use kiln_core::ports::{PortError, PortErrorKind};

/// A failed call to GitHub. Never holds a credential: GitHub's own message, a status code,
/// or the transport's error.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// GitHub answered with an error status.
    #[error("github answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// GitHub's `message`, or the start of the body when it is not GitHub's JSON.
        message: String,
        /// Whether the answer is a rate limit (429, or a 403 with rate-limit headers or a
        /// secondary-rate-limit message).
        rate_limited: bool,
    },
    /// The request did not get an answer (connection refused or reset, TLS, DNS).
    #[error("send the request")]
    Transport(#[source] octocrab::Error),
    /// No answer within the time allowed for one attempt.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The body of an answer could not be read.
    #[error("read the answer")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The answer was larger than kiln accepts for it.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    /// The answer was not the JSON expected.
    #[error("decode the answer")]
    Decode(#[source] serde_json::Error),
    /// The answer was JSON of an unexpected shape (a directory where a file was asked for).
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// A request could not be built (an invalid URL).
    #[error("build the request")]
    Request(#[source] octocrab::Error),
    /// The App's JWT could not be signed.
    #[error("sign the app's jwt")]
    Jwt(#[source] jsonwebtoken::errors::Error),
    /// The credential cannot do what was asked (a personal token where an App is needed).
    #[error("{0}")]
    Credential(&'static str),
}

impl GitHubError {
    /// The port error kind for this failure:
    /// 404/410 → `NotFound`; 429 and rate-limited 403 → `Throttled`; 5xx, transport errors
    /// and timeouts → `Unavailable`; everything else (401, 403, 409, 422, other 4xx, bad
    /// answers) → `Permanent`.
    pub fn kind(&self) -> PortErrorKind {
        match self {
            Self::Api { rate_limited: true, .. } => PortErrorKind::Throttled,
            Self::Api { status, .. } => status_kind(*status),
            Self::Transport(_) | Self::Timeout(_) | Self::Body(_) => PortErrorKind::Unavailable,
            Self::TooLarge(_)
            | Self::Decode(_)
            | Self::Unexpected(_)
            | Self::Request(_)
            | Self::Jwt(_)
            | Self::Credential(_) => PortErrorKind::Permanent,
        }
    }

    /// The HTTP status GitHub answered, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// This failure as the port error of `operation`.
    pub fn into_port(self, operation: impl std::fmt::Display) -> PortError {
        PortError::new(self.kind(), operation).with_source(self)
    }
}

/// The kind of an error status that is not a rate limit.
pub(crate) fn status_kind(status: StatusCode) -> PortErrorKind {
    match status.as_u16() {
        404 | 410 => PortErrorKind::NotFound,
        429 => PortErrorKind::Throttled,
        500..=599 => PortErrorKind::Unavailable,
        _ => PortErrorKind::Permanent,
    }
}

/// Why a [`crate::GitHubClient`] could not be made from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The API URL is not an absolute `http(s)://` URL without query.
    #[error("invalid github api url {0:?}: expected https://HOST[/PATH]")]
    ApiUrl(String),
    /// The App's private key is not an RSA key in PEM.
    #[error("read the github app's private key (expected an rsa key in pem)")]
    PrivateKey(#[source] jsonwebtoken::errors::Error),
    /// The App's key file could not be read.
    #[error("read the github app's key file {}", path.display())]
    KeyFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The credentials JSON is neither `{"token"}` nor `{"appId", "privateKey"}`.
    #[error("read the github credentials: {0}")]
    Credentials(&'static str),
    /// octocrab refused the configuration.
    #[error("build the github client")]
    Client(#[source] octocrab::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(404, PortErrorKind::NotFound)]
    #[test_case(410, PortErrorKind::NotFound)]
    #[test_case(409, PortErrorKind::Permanent)]
    #[test_case(422, PortErrorKind::Permanent)]
    #[test_case(401, PortErrorKind::Permanent)]
    #[test_case(403, PortErrorKind::Permanent)]
    #[test_case(400, PortErrorKind::Permanent)]
    #[test_case(301, PortErrorKind::Permanent)]
    #[test_case(429, PortErrorKind::Throttled)]
    #[test_case(500, PortErrorKind::Unavailable)]
    #[test_case(502, PortErrorKind::Unavailable)]
    #[test_case(503, PortErrorKind::Unavailable)]
    fn statuses_map_to_kinds(status: u16, kind: PortErrorKind) {
        let status = StatusCode::from_u16(status).expect("a status code");
        let e = GitHubError::Api { status, message: "m".into(), rate_limited: false };
        assert_eq!(e.kind(), kind);
    }

    #[test]
    fn a_rate_limited_403_is_throttled() {
        let e = GitHubError::Api {
            status: StatusCode::FORBIDDEN,
            message: "you have exceeded a secondary rate limit".into(),
            rate_limited: true,
        };
        assert_eq!(e.kind(), PortErrorKind::Throttled);
        let port = e.into_port("post status");
        assert_eq!(port.to_string(), "post status: throttled (retry later)");
    }
}
