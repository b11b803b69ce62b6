//! GitHub App authentication: the App's JWT, the installation of each repository, the
//! installation tokens (cached until shortly before they expire), and the one-repository,
//! read-only tokens handed to builds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kiln_core::ports::{Clock, PortError, PortErrorKind};
use kiln_core::webhook::RepoFullName;
use secrecy::{ExposeSecret, SecretString};

use crate::client::{As, Call, Credential, GitHubClient};
use crate::error::{ConfigError, GitHubError};
use crate::retry::RetryPolicy;

/// How far in the past the JWT's `iat` is put, for clocks that run ahead of GitHub's.
const JWT_BACKDATE_S: i64 = 60;
/// How long after it is signed the JWT expires (GitHub takes at most 10 minutes).
const JWT_LIFETIME_S: i64 = 9 * 60;
/// How long a signed JWT is reused (an RSA signature per call is wasted work).
const JWT_REUSE_S: i64 = 5 * 60;

/// The App's key and what kiln has learnt with it.
pub(crate) struct AppState {
    id: u64,
    key: EncodingKey,
    jwt: Mutex<Option<SignedJwt>>,
    installations: Mutex<HashMap<String, u64>>,
    tokens: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<Option<InstallationToken>>>>>,
}

struct SignedJwt {
    jwt: SecretString,
    signed_at_s: i64,
}

#[derive(Clone)]
struct InstallationToken {
    token: SecretString,
    expires_at_ms: Option<i64>,
}

/// The claims GitHub reads in an App's JWT.
#[derive(serde::Serialize)]
struct Claims {
    iat: i64,
    exp: i64,
    iss: String,
}

/// An access token of `POST /app/installations/{id}/access_tokens`.
#[derive(serde::Deserialize)]
struct AccessToken {
    token: String,
    expires_at: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    pub(crate) fn new(id: u64, private_key: &SecretString) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
            .map_err(ConfigError::PrivateKey)?;
        Ok(Self {
            id,
            key,
            jwt: Mutex::new(None),
            installations: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The App's JWT: `iss` the App id, `iat` a minute ago, `exp` nine minutes ahead; signed
    /// again after five minutes or when the clock went back.
    pub(crate) fn jwt(&self, clock: &dyn Clock) -> Result<SecretString, GitHubError> {
        let now_s = clock.now_ms().div_euclid(1000);
        let mut cached = lock(&self.jwt);
        if let Some(signed) = cached.as_ref()
            && (signed.signed_at_s..signed.signed_at_s + JWT_REUSE_S).contains(&now_s)
        {
            return Ok(signed.jwt.clone());
        }
        let claims = Claims {
            iat: now_s - JWT_BACKDATE_S,
            exp: now_s + JWT_LIFETIME_S,
            iss: self.id.to_string(),
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(GitHubError::Jwt)?;
        let jwt = SecretString::from(jwt);
        *cached = Some(SignedJwt { jwt: jwt.clone(), signed_at_s: now_s });
        Ok(jwt)
    }

    fn slot(&self, installation: u64) -> Arc<tokio::sync::Mutex<Option<InstallationToken>>> {
        lock(&self.tokens).entry(installation).or_default().clone()
    }
}

/// A token a build fetches its source with: for one repository, `contents: read` only
/// (a GitHub App), or the operator's own token (`kiln serve` with a personal token).
///
/// Over HTTPS, git sends it as the password of [`SourceToken::USERNAME`]. `Debug` does not
/// show it.
#[derive(Debug, Clone)]
pub struct SourceToken {
    /// The token.
    pub token: SecretString,
    /// When it stops working (milliseconds since the Unix epoch), when GitHub says.
    pub expires_at_ms: Option<i64>,
}

impl SourceToken {
    /// The user name git sends with the token over HTTPS.
    pub const USERNAME: &'static str = "x-access-token";
}

impl GitHubClient {
    fn app(&self) -> Option<&AppState> {
        match &self.inner.credential {
            Credential::App(app) => Some(app),
            Credential::Token(_) => None,
        }
    }

    /// The id of the App's installation on `repo` (`GET /repos/{o}/{r}/installation`),
    /// remembered once known.
    async fn installation_id(
        &self,
        app: &AppState,
        repo: &RepoFullName,
        policy: &RetryPolicy,
    ) -> Result<u64, GitHubError> {
        if let Some(id) = lock(&app.installations).get(repo.key()) {
            return Ok(*id);
        }
        #[derive(serde::Deserialize)]
        struct Installation {
            id: u64,
        }
        let uri = format!("/repos/{}/{}/installation", repo.owner(), repo.name());
        let installation: Installation =
            self.send(&Call::get(uri, As::App), policy).await?.json()?;
        lock(&app.installations).insert(repo.key().to_owned(), installation.id);
        Ok(installation.id)
    }

    /// Mints an installation token; `body` scopes it (no body: the installation's own
    /// repositories and permissions).
    async fn mint(
        &self,
        app: &AppState,
        installation: u64,
        body: Option<&serde_json::Value>,
        policy: &RetryPolicy,
    ) -> Result<InstallationToken, GitHubError> {
        let uri = format!("/app/installations/{installation}/access_tokens");
        let minted = self.send(&Call::post(uri, body, As::App), policy).await;
        if matches!(&minted, Err(e) if e.status().is_some_and(|s| s.as_u16() == 404)) {
            lock(&app.installations).retain(|_, id| *id != installation);
        }
        let token: AccessToken = minted?.json()?;
        let expires_at_ms = match token.expires_at.as_deref() {
            None => None,
            Some(text) => Some(parse_time_ms(text).ok_or(GitHubError::Unexpected(format!(
                "expires_at {text:?} is not an rfc 3339 time"
            )))?),
        };
        Ok(InstallationToken { token: SecretString::from(token.token), expires_at_ms })
    }

    /// The installation token for `repo` and its installation id: the cached one while it has
    /// more than the refresh margin left, else a new one.
    pub(crate) async fn installation_token(
        &self,
        repo: &RepoFullName,
        policy: &RetryPolicy,
    ) -> Result<(SecretString, u64), GitHubError> {
        let app = self.app().ok_or(GitHubError::Credential("not a github app"))?;
        let installation = self.installation_id(app, repo, policy).await?;
        let slot = app.slot(installation);
        let mut cached = slot.lock().await;
        let margin_ms = i64::try_from(self.inner.refresh_margin.as_millis()).unwrap_or(i64::MAX);
        let now_ms = self.inner.clock.now_ms();
        if let Some(token) = cached.as_ref()
            && token.expires_at_ms.is_none_or(|at| at.saturating_sub(now_ms) > margin_ms)
        {
            return Ok((token.token.clone(), installation));
        }
        let token = self.mint(app, installation, None, policy).await?;
        *cached = Some(token.clone());
        Ok((token.token, installation))
    }

    /// Drops the cached token of `installation` (GitHub refused it).
    pub(crate) async fn forget_installation_token(&self, installation: u64) {
        if let Some(app) = self.app() {
            *app.slot(installation).lock().await = None;
        }
    }

    /// A token for a build of `repo` to fetch its source with.
    ///
    /// With a GitHub App: a new installation token for that one repository with
    /// `contents: read` only (`{"repositories": [NAME], "permissions": {"contents": "read"}}`),
    /// never cached nor reused. With a personal token: the token itself, only when the
    /// configuration allows it ([`crate::GitHubConfig::personal_token_for_builds`], which only
    /// `kiln serve` sets); otherwise `Permanent`, as the cloud never hands a personal token
    /// to a build.
    ///
    /// # Errors
    /// `NotFound` when the App is not installed on `repo`; `Throttled`/`Unavailable` as any
    /// call; `Permanent` otherwise.
    pub async fn source_token(&self, repo: &RepoFullName) -> Result<SourceToken, PortError> {
        let operation = format!("mint a source token for {repo}");
        let app = match &self.inner.credential {
            Credential::App(app) => app,
            Credential::Token(token) if self.inner.personal_token_for_builds => {
                return Ok(SourceToken { token: token.clone(), expires_at_ms: None });
            }
            Credential::Token(_) => {
                return Err(PortError::new(PortErrorKind::Permanent, operation).with_source(
                    GitHubError::Credential(
                        "a personal token is never handed to a build: configure a github app",
                    ),
                ));
            }
        };
        let policy = self.inner.retry;
        let body = serde_json::json!({
            "repositories": [repo.name()],
            "permissions": {"contents": "read"},
        });
        let minted = async {
            let installation = self.installation_id(app, repo, &policy).await?;
            self.mint(app, installation, Some(&body), &policy).await
        };
        let token = minted.await.map_err(|e| e.into_port(&operation))?;
        Ok(SourceToken { token: token.token, expires_at_ms: token.expires_at_ms })
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time (`2026-12-01T10:00:00Z`).
fn parse_time_ms(text: &str) -> Option<i64> {
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_times_are_read() {
        assert_eq!(parse_time_ms("1970-01-01T00:01:00Z"), Some(60_000));
        assert_eq!(parse_time_ms("2016-07-11T22:14:10Z"), Some(1_468_275_250_000));
        assert_eq!(parse_time_ms("yesterday"), None);
    }
}
