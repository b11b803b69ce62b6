//! A fake GitHub on the wire for kiln's tests: a real HTTP server on `127.0.0.1` serving the
//! REST endpoints kiln calls, from state the test sets up, recording every request and every
//! commit status, failing on demand, and checking every request against GitHub's OpenAPI
//! description.
//!
//! Served (under [`FakeGitHub::api_url`], which has a path prefix such as `/api/v3` when
//! started with one, like GitHub Enterprise Server):
//! - `POST /repos/{o}/{r}/statuses/{sha}`: 201, recorded in [`FakeGitHub::statuses`]; 422 on a
//!   commit the fake does not know or a description over 140 characters;
//! - `GET /repos/{o}/{r}/pulls/{n}/files`: `per_page` (default 30, at most 100) and `page`,
//!   with GitHub's `Link` header, at most 3000 files;
//! - `GET /repos/{o}/{r}/git/commits/{sha}` (404 when unknown) and
//!   `GET /repos/{o}/{r}/commits/{ref}` (422 when unknown);
//! - `GET /repos/{o}/{r}/contents/{path}?ref={sha}`: JSON with base64 content (files over
//!   1,000,000 bytes with `encoding: none` and no content, as GitHub), a directory as a list,
//!   the bytes with `Accept: application/vnd.github.raw+json`;
//! - App authentication: `GET /repos/{o}/{r}/installation` and
//!   `POST /app/installations/{id}/access_tokens` with an RS256 JWT checked against the App's
//!   public key (`iss`, `iat` in the past, `exp` in the future and at most 10 minutes after
//!   `iat`), tokens scoped by `repositories` and `permissions`, expiring after
//!   [`FakeGitHub::set_token_lifetime`] on the fake's clock ([`FakeGitHub::advance_clock`]).
//!
//! Every repository route needs `Authorization: Bearer TOKEN` (or `token TOKEN`): a token
//! added with [`FakeGitHub::add_token`] may do everything; an installation token only its
//! installation's repositories (or those it was scoped to) with its permissions (the App has
//! `contents: read`, `metadata: read`, `pull_requests: read`, `statuses: write`).
//!
//! To drive `kiln serve` against it: `--github-api {api_url}` with `GITHUB_TOKEN` set to a
//! token given to [`FakeGitHub::add_token`]; or, as a GitHub App, [`FakeGitHub::add_app`] and
//! [`FakeGitHub::install`], then `KILN_GITHUB_APP_ID` and `KILN_GITHUB_APP_KEY_FILE` (a file
//! holding [`TEST_APP_PRIVATE_KEY_PEM`]). Commits must be added ([`FakeGitHub::add_commit`],
//! [`FakeGitHub::add_file`]) before statuses can be posted on them, as on GitHub. Git's
//! smart HTTP (or anything else) can be served beside the API with
//! [`FakeOptions::extra_routes`].
//!
//! Every request is looked up in GitHub's description by method and path template; its query
//! parameters and JSON body are checked against the operation. One that does not fit is
//! answered 422 and recorded in [`FakeGitHub::violations`] (a test ends with
//! [`FakeGitHub::assert_no_violations`]). The description is the npm package
//! `@octokit/openapi` ([`openapi::OPENAPI_PACKAGE`]) that `scripts/test` installs under
//! `.tools/npm`; when it is absent, the fake panics under `CI=true` and otherwise prints a
//! warning and checks nothing.
//!
//! ```no_run
//! # async fn example() {
//! use kiln_fake_github::{Failure, FakeGitHub, Route};
//! let github = FakeGitHub::start().await;
//! github.add_token("test-token");
//! let sha = "0123456789abcdef0123456789abcdef01234567";
//! github.add_commit("octo/repo", sha, "fix the build");
//! github.add_file("octo/repo", sha, "buildspec.yml", b"version: 0.2\n");
//! github.fail_next(Route::Statuses, 2, Failure::Status(502));
//! // point kiln at github.api_url() with GITHUB_TOKEN=test-token, send a delivery…
//! let states: Vec<String> = github.statuses().into_iter().map(|s| s.state).collect();
//! assert_eq!(states, ["pending", "success"]);
//! github.assert_no_violations();
//! # }
//! ```

mod endpoints;
mod model;
pub mod openapi;
mod server;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use model::{Failure, IssuedToken, JwtClaims, PostedStatus, RecordedRequest, Route, Violation};

use crate::model::{App, State};
use crate::server::{Shared, lock};

/// The private key of the fake's test App (PEM). A throwaway key made for tests; it belongs to
/// no App anywhere.
pub const TEST_APP_PRIVATE_KEY_PEM: &str = include_str!("../fixtures/test-app-key.pem");

/// The public half of [`TEST_APP_PRIVATE_KEY_PEM`].
pub const TEST_APP_PUBLIC_KEY_PEM: &str = include_str!("../fixtures/test-app-key.pub.pem");

/// How to start a [`FakeGitHub`].
#[derive(Debug, Default)]
pub struct FakeOptions {
    /// The path the API is under: `""` like api.github.com, `/api/v3` like GitHub Enterprise
    /// Server.
    pub path_prefix: String,
    /// More routes served beside the API (say git's smart HTTP), neither recorded nor checked.
    pub extra_routes: Option<axum::Router>,
}

/// A running fake GitHub. Stops when dropped.
#[derive(Debug)]
pub struct FakeGitHub {
    addr: SocketAddr,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeGitHub {
    /// A fake on a free port of `127.0.0.1`, its API at the root like api.github.com.
    ///
    /// # Panics
    /// When no port can be had (test support: a failure to start is the test's failure).
    pub async fn start() -> Self {
        Self::start_with(FakeOptions::default()).await
    }

    /// A fake with `options`.
    ///
    /// # Panics
    /// When no port can be had.
    pub async fn start_with(options: FakeOptions) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for the fake github");
        let addr = listener.local_addr().expect("the fake github's address");
        let prefix = options.path_prefix.trim_end_matches('/').to_owned();
        let shared = Shared {
            state: Arc::new(Mutex::new(State::new())),
            base_url: format!("http://{addr}{prefix}"),
            prefix,
        };
        let api = axum::Router::new().fallback(server::handle).with_state(shared.clone());
        let app = match options.extra_routes {
            Some(extra) => extra.merge(api),
            None => api,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                eprintln!("fake github stopped: {e}");
            }
        });
        let _ = openapi::spec();
        Self { addr, shared, stop: Some(stop) }
    }

    /// The API URL to give kiln (`http://127.0.0.1:PORT` and the prefix).
    pub fn api_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// Accepts `token` for every repository.
    pub fn add_token(&self, token: &str) {
        self.state().tokens.insert(token.to_owned());
    }

    /// Makes `full_name` (`owner/name`) exist.
    pub fn add_repo(&self, full_name: &str) {
        self.state().repo_mut(full_name);
    }

    /// Adds commit `sha` with `message` to `repo` (made if new).
    pub fn add_commit(&self, repo: &str, sha: &str, message: &str) {
        self.state().repo_mut(repo).commits.insert(sha.to_ascii_lowercase(), message.to_owned());
    }

    /// Puts `contents` at `path` in commit `sha` of `repo` (the commit is made if new).
    pub fn add_file(&self, repo: &str, sha: &str, path: &str, contents: &[u8]) {
        let mut state = self.state();
        let repo = state.repo_mut(repo);
        let sha = sha.to_ascii_lowercase();
        repo.commits.entry(sha.clone()).or_default();
        repo.files.insert((sha, path.to_owned()), contents.to_vec());
    }

    /// Makes pull request `number` of `repo` change `files`.
    pub fn add_pull_request<S: Into<String>>(
        &self,
        repo: &str,
        number: u64,
        files: impl IntoIterator<Item = S>,
    ) {
        let files = files.into_iter().map(Into::into).collect();
        self.state().repo_mut(repo).pulls.insert(number, files);
    }

    /// Registers the test App `app_id` with [`TEST_APP_PUBLIC_KEY_PEM`]; kiln signs its JWTs
    /// with [`TEST_APP_PRIVATE_KEY_PEM`].
    ///
    /// # Panics
    /// Never (the key is the fixture's).
    pub fn add_app(&self, app_id: u64) {
        let decoding_key =
            jsonwebtoken::DecodingKey::from_rsa_pem(TEST_APP_PUBLIC_KEY_PEM.as_bytes())
                .expect("the test app's public key is valid pem");
        self.state().app = Some(App { id: app_id, decoding_key });
    }

    /// Installs the App on `repos` as installation `installation_id`.
    pub fn install(&self, installation_id: u64, repos: &[&str]) {
        let mut state = self.state();
        state.installations.insert(installation_id);
        for repo in repos {
            state.repo_mut(repo).installation = Some(installation_id);
        }
    }

    /// How long installation tokens issued from now on live (default an hour).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state().token_lifetime_s = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
    }

    /// Moves the fake's clock (token expiry, JWT checks, rate-limit resets) forward.
    pub fn advance_clock(&self, by: Duration) {
        self.state().clock_offset_s += i64::try_from(by.as_secs()).unwrap_or(0);
    }

    /// Refuses every installation token issued so far (401), as when GitHub revokes them.
    pub fn revoke_installation_tokens(&self) {
        let mut state = self.state();
        let tokens: Vec<String> = state.issued.iter().map(|t| t.token.clone()).collect();
        state.revoked.extend(tokens);
    }

    /// Answers the next `times` requests to `route` with `failure` (after the failures asked
    /// for before on that route).
    pub fn fail_next(&self, route: Route, times: usize, failure: Failure) {
        let mut state = self.state();
        let failures = std::iter::repeat_n(failure, times);
        match state.failures.iter_mut().find(|(r, _)| *r == route) {
            Some((_, queue)) => queue.extend(failures),
            None => state.failures.push((route, failures.collect())),
        }
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// The requests to `route`, in order.
    pub fn requests_to(&self, route: Route) -> Vec<RecordedRequest> {
        self.state()
            .requests
            .iter()
            .filter(|r| route == Route::Any || r.route == Some(route))
            .cloned()
            .collect()
    }

    /// Every commit status accepted, in order.
    pub fn statuses(&self) -> Vec<PostedStatus> {
        self.state().statuses.clone()
    }

    /// Every installation token issued, in order.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.state().issued.clone()
    }

    /// The claims of every App JWT accepted, in order.
    pub fn jwt_claims(&self) -> Vec<JwtClaims> {
        self.state().jwts.clone()
    }

    /// The fake's clock, seconds since the Unix epoch.
    pub fn now_s(&self) -> i64 {
        self.state().now_s()
    }

    /// Every request GitHub's description (or one of GitHub's rules) refused.
    pub fn violations(&self) -> Vec<Violation> {
        self.state().violations.clone()
    }

    /// Whether GitHub's description was found (requests are checked against it).
    pub fn checks_requests(&self) -> bool {
        openapi::spec().is_some()
    }

    /// # Panics
    /// When a request did not fit GitHub's description, listing them.
    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(violations.is_empty(), "requests GitHub would refuse:\n{}", list.join("\n"));
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
