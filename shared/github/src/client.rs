//! `GitHubClient`: one connection pool to GitHub's REST API (octocrab over hyper and rustls),
//! the credential, and every call made with retries, timeouts and a body size limit.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use kiln_core::ports::Clock;
use kiln_core::webhook::RepoFullName;
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};

use crate::app::AppState;
use crate::config::{GitHubAuth, GitHubConfig, Timeouts};
use crate::error::{ConfigError, GitHubError};
use crate::retry::{Retry, RetryPolicy, read_answer};

/// GitHub's JSON media type.
pub(crate) const JSON: &str = "application/vnd.github+json";

/// The largest JSON answer kiln reads (a page of 100 changed files with their patches).
pub(crate) const MAX_JSON_BYTES: usize = 32 << 20;

/// A client of GitHub's REST API: the base URL, the credential (a token, or an App with its
/// installation tokens cached), and the retry policy the adapters made from it use by
/// default. Cheap to clone: clones share the connection pool and the token cache.
///
/// `Debug` shows neither the token nor the key.
#[derive(Clone)]
pub struct GitHubClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    octocrab: Octocrab,
    base: Uri,
    pub(crate) credential: Credential,
    timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    pub(crate) refresh_margin: Duration,
    pub(crate) personal_token_for_builds: bool,
    pub(crate) clock: Arc<dyn Clock>,
}

pub(crate) enum Credential {
    Token(SecretString),
    App(AppState),
}

/// Who a call is made as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum As<'a> {
    /// With the credential that may act on this repository: the token, or the installation
    /// token of the App's installation on it.
    Repo(&'a RepoFullName),
    /// As the App itself (a JWT).
    App,
}

/// One call to the REST API.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub method: Method,
    /// A path under the API URL (`/repos/o/r/…`), or an absolute URL on the API's host (the
    /// `Link` of the next page).
    pub uri: String,
    pub accept: &'static str,
    pub body: Option<&'a serde_json::Value>,
    pub who: As<'a>,
    /// The largest body accepted in the answer.
    pub limit: usize,
}

impl<'a> Call<'a> {
    /// A GET of `uri` answered in JSON.
    pub(crate) fn get(uri: String, who: As<'a>) -> Self {
        Self { method: Method::GET, uri, accept: JSON, body: None, who, limit: MAX_JSON_BYTES }
    }

    /// A POST of `body` to `uri`.
    pub(crate) fn post(uri: String, body: Option<&'a serde_json::Value>, who: As<'a>) -> Self {
        Self { method: Method::POST, uri, accept: JSON, body, who, limit: MAX_JSON_BYTES }
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON of type `T`.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, GitHubError> {
        serde_json::from_slice(&self.body).map_err(GitHubError::Decode)
    }
}

impl GitHubClient {
    /// A client for `config`. Must be called within a Tokio runtime (octocrab starts its
    /// connection worker on it).
    ///
    /// # Errors
    /// [`ConfigError`] when the API URL or the App's key is invalid.
    pub fn new(config: GitHubConfig) -> Result<Self, ConfigError> {
        let base = parse_api_url(&config.api_url)?;
        let credential = match config.auth {
            GitHubAuth::Token(token) => Credential::Token(token),
            GitHubAuth::App { app_id, private_key } => {
                Credential::App(AppState::new(app_id, &private_key)?)
            }
        };
        let octocrab = Octocrab::builder()
            .base_uri(base.clone())
            .map_err(ConfigError::Client)?
            .set_connect_timeout(Some(config.timeouts.connect))
            .build()
            .map_err(ConfigError::Client)?;
        Ok(Self {
            inner: Arc::new(Inner {
                octocrab,
                base,
                credential,
                timeouts: config.timeouts,
                retry: config.retry,
                refresh_margin: config.token_refresh_margin,
                personal_token_for_builds: config.personal_token_for_builds,
                clock: config.clock,
            }),
        })
    }

    /// The API URL, without a trailing `/`.
    pub fn api_url(&self) -> String {
        self.inner.base.to_string().trim_end_matches('/').to_owned()
    }

    /// The retry policy adapters made from this client use unless told otherwise.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Whether `uri` is on the API's scheme, host and port (a `Link` kiln may follow with its
    /// credential).
    pub(crate) fn is_api_origin(&self, uri: &str) -> bool {
        let Ok(uri) = uri.parse::<Uri>() else { return false };
        uri.scheme() == self.inner.base.scheme() && uri.authority() == self.inner.base.authority()
    }

    /// Makes `call` under `policy`: retried on 5xx, rate limits, transport errors and
    /// timeouts, within the policy's attempts and budget; a 401 with an installation token
    /// drops that token and tries once more with a new one.
    pub(crate) async fn send(
        &self,
        call: &Call<'_>,
        policy: &RetryPolicy,
    ) -> Result<Reply, GitHubError> {
        let start = tokio::time::Instant::now();
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let (token, installation) = self.authorization(call.who, policy).await?;
            let left = policy.budget.saturating_sub(start.elapsed());
            let timeout = self.inner.timeouts.request.min(left).max(Duration::from_millis(1));
            let error = match tokio::time::timeout(timeout, self.send_once(call, &token)).await {
                Err(_) => GitHubError::Timeout(timeout),
                Ok(Err(error)) => error,
                Ok(Ok((status, reply))) if status.is_success() => return Ok(reply),
                Ok(Ok((status, reply))) => {
                    let message = error_message(&reply.body);
                    let now_s = self.inner.clock.now_ms().div_euclid(1000);
                    let (rate_limited, retry) =
                        read_answer(status, &reply.headers, &message, now_s, policy);
                    if status == StatusCode::UNAUTHORIZED
                        && !renewed
                        && let Some(id) = installation
                    {
                        self.forget_installation_token(id).await;
                        renewed = true;
                        continue;
                    }
                    let error = GitHubError::Api { status, message, rate_limited };
                    match retry {
                        Retry::Never => return Err(error),
                        Retry::Backoff => self.wait(policy, attempt, None, start, error).await?,
                        Retry::After(wait) => {
                            self.wait(policy, attempt, Some(wait), start, error).await?;
                        }
                    }
                    continue;
                }
            };
            self.wait(policy, attempt, None, start, error).await?;
        }
    }

    /// Waits before the next attempt, or gives `error` back when there is none left.
    async fn wait(
        &self,
        policy: &RetryPolicy,
        attempt: u32,
        asked: Option<Duration>,
        start: tokio::time::Instant,
        error: GitHubError,
    ) -> Result<(), GitHubError> {
        let wait = asked.unwrap_or_else(|| policy.backoff(attempt));
        if attempt >= policy.max_attempts || start.elapsed() + wait >= policy.budget {
            return Err(error);
        }
        tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "github call retried");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// The bearer token for `who`, and the installation it belongs to (App only).
    async fn authorization(
        &self,
        who: As<'_>,
        policy: &RetryPolicy,
    ) -> Result<(SecretString, Option<u64>), GitHubError> {
        match (&self.inner.credential, who) {
            (Credential::Token(token), _) => Ok((token.clone(), None)),
            (Credential::App(app), As::App) => Ok((app.jwt(self.inner.clock.as_ref())?, None)),
            (Credential::App(_), As::Repo(repo)) => {
                let (token, id) = Box::pin(self.installation_token(repo, policy)).await?;
                Ok((token, Some(id)))
            }
        }
    }

    /// One attempt: the status and the answer, whatever the status.
    async fn send_once(
        &self,
        call: &Call<'_>,
        token: &SecretString,
    ) -> Result<(StatusCode, Reply), GitHubError> {
        let builder = http::Request::builder()
            .method(call.method.clone())
            .uri(call.uri.as_str())
            .header(ACCEPT, call.accept);
        let mut request =
            self.inner.octocrab.build_request(builder, call.body).map_err(GitHubError::Request)?;
        let mut bearer = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
            .map_err(|_| GitHubError::Credential("the token is not a valid http header value"))?;
        bearer.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, bearer);
        let response =
            self.inner.octocrab.execute(request).await.map_err(GitHubError::Transport)?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, call.limit).collect().await.map_err(|e| {
            if e.is::<LengthLimitError>() {
                GitHubError::TooLarge(call.limit)
            } else {
                GitHubError::Body(e)
            }
        })?;
        Ok((parts.status, Reply { headers: parts.headers, body: body.to_bytes() }))
    }
}

impl std::fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match &self.inner.credential {
            Credential::Token(_) => "token".to_owned(),
            Credential::App(app) => format!("app {}", app.id()),
        };
        f.debug_struct("GitHubClient")
            .field("api_url", &self.api_url())
            .field("auth", &auth)
            .finish_non_exhaustive()
    }
}

/// Checks the API URL: absolute, `http` or `https`, no query; a trailing `/` is dropped.
fn parse_api_url(text: &str) -> Result<Uri, ConfigError> {
    let bad = || ConfigError::ApiUrl(text.to_owned());
    let uri: Uri = text.trim_end_matches('/').parse().map_err(|_| bad())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.authority().is_none() || uri.query().is_some() {
        return Err(bad());
    }
    Ok(uri)
}

/// GitHub's `message` in an error answer, or the start of the body.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Wire {
        message: String,
    }
    match serde_json::from_slice::<Wire>(body) {
        Ok(wire) => wire.message,
        Err(_) => String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_are_checked() {
        assert_eq!(
            parse_api_url("https://api.github.com").expect("a valid url").to_string(),
            "https://api.github.com/"
        );
        let ghes = parse_api_url("https://ghe.example.com/api/v3/").expect("a valid url");
        assert_eq!(ghes.path(), "/api/v3");
        for bad in ["api.github.com", "ftp://x", "https://x/?a=b", "/api/v3", ""] {
            assert!(parse_api_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_messages_come_from_githubs_json() {
        assert_eq!(
            error_message(br#"{"message":"Not Found","documentation_url":"x"}"#),
            "Not Found"
        );
        assert_eq!(error_message(b"<html>bad gateway</html>"), "<html>bad gateway</html>");
    }
}
