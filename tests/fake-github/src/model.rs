//! What the fake holds: the repositories, commits, files, pull requests and App installations a
//! test sets up, and what it records (requests, statuses, tokens, violations).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;

/// A route of the fake, for failures and for picking recorded requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `POST /repos/{owner}/{repo}/statuses/{sha}`.
    Statuses,
    /// `GET /repos/{owner}/{repo}/pulls/{number}/files`.
    PullFiles,
    /// `GET /repos/{owner}/{repo}/git/commits/{sha}` and `GET /repos/{owner}/{repo}/commits/{ref}`.
    Commit,
    /// `GET /repos/{owner}/{repo}/contents/{path}`.
    Contents,
    /// `GET /repos/{owner}/{repo}/installation`.
    Installation,
    /// `POST /app/installations/{id}/access_tokens`.
    AccessTokens,
    /// Every route (for [`crate::FakeGitHub::fail_next`]).
    Any,
}

/// How the fake answers a request it is told to fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// This status (502, 503, 500…) with GitHub's JSON error body.
    Status(u16),
    /// This status (429, 403, 503…) with `Retry-After: seconds`.
    RetryAfter {
        /// The status.
        status: u16,
        /// The `Retry-After` value.
        seconds: u64,
    },
    /// 403 with GitHub's secondary-rate-limit message, and `Retry-After` when given.
    SecondaryRateLimit {
        /// The `Retry-After` value, if any.
        retry_after: Option<u64>,
    },
    /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds ahead.
    RateLimitExhausted {
        /// Seconds until the reset.
        reset_in: u64,
    },
    /// The normal answer, after this long (for timeouts).
    Delay(Duration),
}

/// A request the fake received, as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// The path as sent, the API URL's path prefix included (`/api/v3/repos/…`).
    pub path: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The route it went to, when it is one of the fake's.
    pub route: Option<Route>,
    /// The status the fake answered; 0 while it has not (a delayed answer), or when the client
    /// went away before it did.
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, when it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A commit status the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedStatus {
    /// `owner/name` as in the path.
    pub repo: String,
    /// The commit.
    pub sha: String,
    /// `pending`, `success`, `failure` or `error`.
    pub state: String,
    /// The context (`default` when none was sent, as GitHub does).
    pub context: String,
    /// The description, if sent.
    pub description: Option<String>,
    /// The target URL, if sent.
    pub target_url: Option<String>,
}

/// An installation token the fake issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The installation.
    pub installation_id: u64,
    /// The token.
    pub token: String,
    /// When it expires, seconds since the Unix epoch (the fake's clock).
    pub expires_at_s: i64,
    /// The repositories asked for (`None`: the installation's).
    pub repositories: Option<Vec<String>>,
    /// The permissions asked for (`None`: the App's).
    pub permissions: Option<BTreeMap<String, String>>,
}

/// The claims of an App JWT the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtClaims {
    /// `iss`, as a string.
    pub iss: String,
    /// `iat`.
    pub iat: i64,
    /// `exp`.
    pub exp: i64,
}

/// A request GitHub's OpenAPI description (or one of GitHub's rules) refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `METHOD /path`.
    pub request: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.request, self.message)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Repo {
    /// `owner/name` as first given.
    pub name: String,
    pub commits: HashMap<String, String>,
    /// (commit, path) → bytes.
    pub files: HashMap<(String, String), Vec<u8>>,
    pub pulls: HashMap<u64, Vec<String>>,
    pub installation: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct App {
    pub id: u64,
    pub decoding_key: jsonwebtoken::DecodingKey,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub repos: HashMap<String, Repo>,
    pub tokens: HashSet<String>,
    pub app: Option<App>,
    pub installations: HashSet<u64>,
    pub issued: Vec<IssuedToken>,
    pub revoked: HashSet<String>,
    pub token_lifetime_s: i64,
    pub clock_offset_s: i64,
    pub failures: Vec<(Route, VecDeque<Failure>)>,
    pub requests: Vec<RecordedRequest>,
    pub statuses: Vec<PostedStatus>,
    pub jwts: Vec<JwtClaims>,
    pub violations: Vec<Violation>,
}

impl State {
    pub(crate) fn new() -> Self {
        Self { token_lifetime_s: 3600, ..Self::default() }
    }

    pub(crate) fn now_s(&self) -> i64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        real + self.clock_offset_s
    }

    pub(crate) fn repo_mut(&mut self, full_name: &str) -> &mut Repo {
        let repo = self.repos.entry(full_name.to_ascii_lowercase()).or_default();
        if repo.name.is_empty() {
            full_name.clone_into(&mut repo.name);
        }
        repo
    }

    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos.get(&format!("{owner}/{name}").to_ascii_lowercase())
    }

    /// The failure the next request to `route` gets, if any.
    pub(crate) fn take_failure(&mut self, route: Route) -> Option<Failure> {
        let queue = self
            .failures
            .iter_mut()
            .find(|(r, q)| (*r == route || *r == Route::Any) && !q.is_empty())?;
        queue.1.pop_front()
    }
}
