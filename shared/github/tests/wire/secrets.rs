//! No token or key in any `Debug` output or error text.

use kiln_core::ports::{SourceHost, StatusReporter};
use kiln_core::status::CommitState;
use kiln_fake_github::{Failure, Route, TEST_APP_PRIVATE_KEY_PEM};
use kiln_github::{GitHubAuth, GitHubClient, GitHubConfig, GitHubSourceHost, GitHubStatusReporter};

use crate::support::*;

/// Lines of the key's body, any of which would betray it.
fn key_fragments() -> Vec<&'static str> {
    TEST_APP_PRIVATE_KEY_PEM.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn assert_clean(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} in {text}");
    }
}

#[tokio::test]
async fn no_token_in_debug_or_errors() {
    let github = fake().await;
    let config = token_config(&github);
    let client = GitHubClient::new(config.clone()).expect("a valid configuration");
    let reporter = GitHubStatusReporter::new(client.clone());
    let host = GitHubSourceHost::new(client.clone());
    github.fail_next(Route::Any, 9, Failure::Status(502));
    let post = reporter.post(&status(CommitState::Pending, "x")).await.expect_err("the call fails");
    let read = host.file_at(&repo(), &sha(), "buildspec.yml").await.expect_err("the call fails");
    let denied = client.source_token(&repo()).await.expect_err("the call fails");
    let local = GitHubClient::new(config.clone().personal_token_for_builds(true))
        .expect("a valid configuration");
    let source = local.source_token(&repo()).await.expect("the call succeeds");
    let texts = [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{reporter:?}"),
        format!("{host:?}"),
        format!("{source:?}"),
        format!("{post:?}"),
        chain(&post),
        format!("{read:?}"),
        chain(&read),
        format!("{denied:?}"),
        chain(&denied),
    ];
    for text in &texts {
        assert_clean(text, &[TOKEN]);
    }
}

#[tokio::test]
async fn no_key_or_installation_token_in_debug_or_errors() {
    let github = app_fake().await;
    let config = GitHubConfig::new(GitHubAuth::app(APP_ID, TEST_APP_PRIVATE_KEY_PEM))
        .api_url(github.api_url())
        .retry(fast_retry());
    let client = GitHubClient::new(config.clone()).expect("a valid configuration");
    let reporter = GitHubStatusReporter::new(client.clone());
    reporter.post(&status(CommitState::Pending, "x")).await.expect("the call succeeds");
    let source = client.source_token(&repo()).await.expect("the call succeeds");
    github.fail_next(Route::Statuses, 3, Failure::Status(500));
    let post = reporter.post(&status(CommitState::Success, "x")).await.expect_err("the call fails");
    let bad_key = GitHubClient::new(GitHubConfig::new(GitHubAuth::app(
        1,
        "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n",
    )))
    .expect_err("a key that is no rsa key is refused");

    let mut secrets = key_fragments();
    let tokens: Vec<String> = github.issued_tokens().into_iter().map(|t| t.token).collect();
    secrets.extend(tokens.iter().map(String::as_str));
    secrets.push("c2VjcmV0");
    let texts = [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{reporter:?}"),
        format!("{source:?}"),
        format!("{post:?}"),
        chain(&post),
        format!("{bad_key:?}"),
        chain(&bad_key),
    ];
    for text in &texts {
        assert_clean(text, &secrets);
    }
}
