//! The configuration of a [`crate::GitHubClient`]: API URL, credentials, retries, timeouts.
//!
//! Nothing here reads the environment: `kiln serve` and the Lambda functions read their own
//! typed configuration (`--github-api`/`KILN_GITHUB_API_URL`, `GITHUB_TOKEN`,
//! `KILN_GITHUB_APP_ID` + `KILN_GITHUB_APP_KEY_FILE`, the JSON of `KILN_GITHUB_SECRET_ARN`) and
//! build a [`GitHubConfig`] from it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use kiln_core::ports::{Clock, SystemClock};
use secrecy::SecretString;

use crate::error::ConfigError;
use crate::retry::RetryPolicy;

/// GitHub's public API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// How kiln authenticates to GitHub.
///
/// `Debug` never shows the token or the key.
#[derive(Clone)]
pub enum GitHubAuth {
    /// A personal (classic or fine-grained) token, or any token GitHub takes as `Bearer`.
    Token(SecretString),
    /// A GitHub App: its id and its RSA private key in PEM, as GitHub hands it out.
    App {
        /// The App's id (not its client id).
        app_id: u64,
        /// The App's private key, PEM.
        private_key: SecretString,
    },
}

impl GitHubAuth {
    /// A token.
    pub fn token(token: impl Into<SecretString>) -> Self {
        Self::Token(token.into())
    }

    /// A GitHub App with its private key in PEM.
    pub fn app(app_id: u64, private_key_pem: impl Into<SecretString>) -> Self {
        Self::App { app_id, private_key: private_key_pem.into() }
    }

    /// A GitHub App whose private key is the PEM file at `path` (`KILN_GITHUB_APP_KEY_FILE`),
    /// read once, at startup.
    ///
    /// # Errors
    /// [`ConfigError::KeyFile`] when the file cannot be read.
    pub fn app_from_key_file(app_id: u64, path: &std::path::Path) -> Result<Self, ConfigError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::KeyFile { path: path.to_owned(), source })?;
        Ok(Self::app(app_id, pem))
    }

    /// Reads the JSON kept in `KILN_GITHUB_SECRET_ARN`: `{"token": "…"}` or
    /// `{"appId": 123, "privateKey": "-----BEGIN RSA PRIVATE KEY-----…"}` (`appId` a number
    /// or a string of digits).
    ///
    /// # Errors
    /// [`ConfigError::Credentials`] when it is neither; the message never quotes the secret.
    pub fn from_secret_json(text: &str) -> Result<Self, ConfigError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            token: Option<String>,
            app_id: Option<serde_json::Value>,
            private_key: Option<String>,
        }
        let wire: Wire = serde_json::from_str(text)
            .map_err(|_| ConfigError::Credentials("not a json object of strings"))?;
        match wire {
            Wire { token: Some(token), app_id: None, private_key: None } if !token.is_empty() => {
                Ok(Self::token(token))
            }
            Wire { token: None, app_id: Some(id), private_key: Some(key) } => {
                let app_id = match id {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }
                .ok_or(ConfigError::Credentials("appId is not a number"))?;
                Ok(Self::app(app_id, key))
            }
            _ => Err(ConfigError::Credentials(
                r#"expected {"token": …} or {"appId": …, "privateKey": …}"#,
            )),
        }
    }
}

impl fmt::Debug for GitHubAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token([redacted])"),
            Self::App { app_id, .. } => {
                f.debug_struct("App").field("app_id", app_id).finish_non_exhaustive()
            }
        }
    }
}

/// How long kiln waits on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: Duration,
    /// For one attempt, from sending the request to the end of the answer's body (capped by
    /// what is left of the retry budget).
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(3), request: Duration::from_secs(8) }
    }
}

/// Everything a [`crate::GitHubClient`] needs.
///
/// ```
/// use kiln_github::{GitHubAuth, GitHubConfig, RetryPolicy};
/// let config = GitHubConfig::new(GitHubAuth::token("ghp_example"))
///     .api_url("https://ghe.example.com/api/v3")
///     .retry(RetryPolicy::intake());
/// assert_eq!(config.api_url, "https://ghe.example.com/api/v3");
/// ```
#[derive(Clone)]
pub struct GitHubConfig {
    /// The REST API's base URL: [`DEFAULT_API_URL`], or `https://HOST/api/v3` for GitHub
    /// Enterprise Server.
    pub api_url: String,
    /// The credential.
    pub auth: GitHubAuth,
    /// The retry policy of the adapters made from the client (each can take another).
    pub retry: RetryPolicy,
    /// Connection and per-attempt timeouts.
    pub timeouts: Timeouts,
    /// An App installation token is minted again when it has less than this left (GitHub's
    /// last an hour).
    pub token_refresh_margin: Duration,
    /// Whether [`crate::GitHubClient::source_token`] may hand a personal token to a build.
    /// Only `kiln serve` (one machine, the operator's own token) sets it; in the cloud a
    /// personal token never leaves the functions, and builds need a GitHub App.
    pub personal_token_for_builds: bool,
    /// The clock tokens and JWTs are dated with.
    pub clock: Arc<dyn Clock>,
}

impl GitHubConfig {
    /// A configuration for `auth` against [`DEFAULT_API_URL`], with the intake retry policy,
    /// default timeouts, a 5-minute refresh margin, no personal token for builds, and the
    /// system clock.
    pub fn new(auth: GitHubAuth) -> Self {
        Self {
            api_url: DEFAULT_API_URL.to_owned(),
            auth,
            retry: RetryPolicy::intake(),
            timeouts: Timeouts::default(),
            token_refresh_margin: Duration::from_secs(5 * 60),
            personal_token_for_builds: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same with another API URL.
    #[must_use]
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into();
        self
    }

    /// The same with another retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The same with other timeouts.
    #[must_use]
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The same with another refresh margin for installation tokens.
    #[must_use]
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// The same, allowing (or not) a personal token to be handed to builds (`kiln serve`).
    #[must_use]
    pub fn personal_token_for_builds(mut self, allowed: bool) -> Self {
        self.personal_token_for_builds = allowed;
        self
    }

    /// The same with another clock (tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("api_url", &self.api_url)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("personal_token_for_builds", &self.personal_token_for_builds)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_json_is_a_token_or_an_app() {
        assert!(matches!(
            GitHubAuth::from_secret_json(r#"{"token":"t"}"#),
            Ok(GitHubAuth::Token(_))
        ));
        let app = GitHubAuth::from_secret_json(r#"{"appId":"42","privateKey":"k"}"#)
            .expect("valid credentials json");
        assert!(matches!(app, GitHubAuth::App { app_id: 42, .. }));
        let app = GitHubAuth::from_secret_json(r#"{"appId":7,"privateKey":"k"}"#)
            .expect("valid credentials json");
        assert!(matches!(app, GitHubAuth::App { app_id: 7, .. }));
        for bad in
            [r#"{"token":""}"#, r#"{"appId":"x","privateKey":"k"}"#, r#"{"appId":1}"#, "[]", "{"]
        {
            assert!(GitHubAuth::from_secret_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_key_file_is_read_or_named() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("app.pem");
        std::fs::write(&path, "pem").expect("the key is written");
        assert!(matches!(
            GitHubAuth::app_from_key_file(5, &path),
            Ok(GitHubAuth::App { app_id: 5, .. })
        ));
        let missing = GitHubAuth::app_from_key_file(5, &dir.path().join("none.pem"))
            .expect_err("a missing file is refused");
        assert!(missing.to_string().contains("none.pem"), "{missing}");
    }

    #[test]
    fn debug_shows_no_secret() {
        let token = GitHubConfig::new(GitHubAuth::token("ghp_supersecret"));
        let app = GitHubConfig::new(GitHubAuth::app(9, "-----BEGIN RSA PRIVATE KEY-----secretkey"));
        for text in [format!("{token:?}"), format!("{app:?}")] {
            assert!(!text.contains("supersecret") && !text.contains("secretkey"), "{text}");
        }
        let err = GitHubAuth::from_secret_json(r#"{"token":"ghp_supersecret","appId":1}"#)
            .expect_err("a token with an app id is refused");
        assert!(!err.to_string().contains("supersecret"));
    }
}
