//! Shared setup: a fake GitHub with a token or the test App, and clients pointed at it.

use std::sync::Arc;
use std::time::Duration;

use kiln_core::ports::{Clock, CommitStatus, ManualClock, SystemClock};
use kiln_core::status::CommitState;
use kiln_core::webhook::{CommitSha, RepoFullName};
use kiln_fake_github::{FakeGitHub, TEST_APP_PRIVATE_KEY_PEM};
use kiln_github::{GitHubAuth, GitHubClient, GitHubConfig, RetryPolicy};

pub const TOKEN: &str = "ghp_test_token_1234567890";
pub const REPO: &str = "octo-org/hello-world";
pub const SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
pub const APP_ID: u64 = 4242;
pub const INSTALLATION: u64 = 77;

pub fn repo() -> RepoFullName {
    RepoFullName::parse(REPO).expect("a repository name")
}

pub fn sha() -> CommitSha {
    CommitSha::parse(SHA).expect("a commit sha")
}

/// Quick retries, so tests do not wait on backoff.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        budget: Duration::from_secs(5),
        secondary_rate_limit_wait: Duration::from_secs(60),
    }
}

/// A fake that knows `REPO` at `SHA` and accepts `TOKEN`.
pub async fn fake() -> FakeGitHub {
    let github = FakeGitHub::start().await;
    github.add_token(TOKEN);
    github.add_commit(REPO, SHA, "Fix all the bugs\n\nAnd a body.");
    github
}

pub fn token_config(github: &FakeGitHub) -> GitHubConfig {
    GitHubConfig::new(GitHubAuth::token(TOKEN)).api_url(github.api_url()).retry(fast_retry())
}

pub fn token_client(github: &FakeGitHub) -> GitHubClient {
    GitHubClient::new(token_config(github)).expect("a valid configuration")
}

/// A fake with the test App installed on `REPO`.
pub async fn app_fake() -> FakeGitHub {
    let github = fake().await;
    github.add_app(APP_ID);
    github.install(INSTALLATION, &[REPO]);
    github
}

/// A client of the test App on `clock`.
pub fn app_client(github: &FakeGitHub, clock: Arc<dyn Clock>) -> GitHubClient {
    let config = GitHubConfig::new(GitHubAuth::app(APP_ID, TEST_APP_PRIVATE_KEY_PEM))
        .api_url(github.api_url())
        .retry(fast_retry())
        .clock(clock);
    GitHubClient::new(config).expect("a valid configuration")
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A manual clock at the real time now.
pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(SystemClock.now_ms()))
}

pub fn status(state: CommitState, description: &str) -> CommitStatus {
    CommitStatus {
        repository: repo(),
        commit: sha(),
        state,
        context: "AWS CodeBuild us-east-1 (hello)".into(),
        description: description.into(),
        target_url: Some("http://kiln.example/builds/hello/1".into()),
    }
}

/// An error and its sources, as one text.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
