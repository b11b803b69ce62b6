//! GitHub App authentication: the JWT, the installation, cached and refreshed installation
//! tokens, and the one-repository read-only source token.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kiln_core::ports::{Clock, PortErrorKind, SourceHost, StatusReporter};
use kiln_core::status::CommitState;
use kiln_fake_github::{Route, TEST_APP_PUBLIC_KEY_PEM};
use kiln_github::{GitHubSourceHost, GitHubStatusReporter, SourceToken};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_jwt_names_the_app_and_is_dated_a_minute_back_for_nine_minutes() {
    let github = app_fake().await;
    let clock = manual_clock();
    let now_s = clock.now_ms() / 1000;
    let reporter = GitHubStatusReporter::new(app_client(&github, clock.clone()));
    reporter.post(&status(CommitState::Pending, "Build started")).await.expect("the call succeeds");

    let lookup = &github.requests_to(Route::Installation)[0];
    assert_eq!(lookup.path, format!("/repos/{REPO}/installation"));
    let jwt = lookup
        .header("authorization")
        .expect("the header is there")
        .strip_prefix("Bearer ")
        .expect("a bearer token");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    let key = DecodingKey::from_rsa_pem(TEST_APP_PUBLIC_KEY_PEM.as_bytes()).expect("the test key");
    let decoded = jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &validation)
        .expect("a jwt signed with the test key");
    assert_eq!(decoded.header.alg, Algorithm::RS256);
    assert_eq!(
        decoded.claims,
        json!({"iss": APP_ID.to_string(), "iat": now_s - 60, "exp": now_s + 540})
    );
    assert_eq!(github.jwt_claims().len(), 2, "the lookup and the access token, both accepted");
    github.assert_no_violations();
}

#[tokio::test]
async fn the_installation_token_is_found_from_the_repository_and_cached() {
    let github = app_fake().await;
    github.add_file(REPO, SHA, "buildspec.yml", b"version: 0.2\n");
    let client = app_client(&github, system_clock());
    let reporter = GitHubStatusReporter::new(client.clone());
    let host = GitHubSourceHost::new(client);
    reporter.post(&status(CommitState::Pending, "Build started")).await.expect("the call succeeds");
    host.file_at(&repo(), &sha(), "buildspec.yml").await.expect("the call succeeds");
    reporter
        .post(&status(CommitState::Success, "Build succeeded"))
        .await
        .expect("the call succeeds");

    assert_eq!(github.requests_to(Route::Installation).len(), 1);
    let minted = github.requests_to(Route::AccessTokens);
    assert_eq!(minted.len(), 1, "the second and third calls reuse the token");
    assert_eq!(minted[0].path, format!("/app/installations/{INSTALLATION}/access_tokens"));
    let token = &github.issued_tokens()[0];
    assert_eq!((token.repositories.as_ref(), token.permissions.as_ref()), (None, None));
    for request in
        github.requests_to(Route::Statuses).iter().chain(&github.requests_to(Route::Contents))
    {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {}", token.token).as_str())
        );
    }
    assert_eq!(github.statuses().len(), 2);
    github.assert_no_violations();
}

#[tokio::test]
async fn the_token_is_minted_again_shortly_before_it_expires() {
    let github = app_fake().await;
    let clock = manual_clock();
    let reporter = GitHubStatusReporter::new(app_client(&github, clock.clone()));
    let pending = status(CommitState::Pending, "Build started");
    let post = || reporter.post(&pending);

    post().await.expect("the call succeeds");
    clock.advance(50 * 60 * 1000);
    github.advance_clock(Duration::from_secs(50 * 60));
    post().await.expect("the call succeeds");
    assert_eq!(github.issued_tokens().len(), 1, "ten minutes left: still used");
    clock.advance(6 * 60 * 1000);
    github.advance_clock(Duration::from_secs(6 * 60));
    post().await.expect("the call succeeds");

    let issued = github.issued_tokens();
    assert_eq!(issued.len(), 2, "four minutes left: minted again");
    let last = github.requests_to(Route::Statuses).pop().expect("a request");
    assert_eq!(last.header("authorization"), Some(format!("Bearer {}", issued[1].token).as_str()));
    github.assert_no_violations();
}

#[tokio::test]
async fn a_token_github_no_longer_takes_is_replaced_once() {
    let github = app_fake().await;
    let reporter = GitHubStatusReporter::new(app_client(&github, system_clock()));
    reporter.post(&status(CommitState::Pending, "Build started")).await.expect("the call succeeds");
    github.revoke_installation_tokens();
    reporter
        .post(&status(CommitState::Success, "Build succeeded"))
        .await
        .expect("the call succeeds");

    let answers: Vec<u16> = github.requests_to(Route::Statuses).iter().map(|r| r.status).collect();
    assert_eq!(answers, [201, 401, 201]);
    assert_eq!(github.issued_tokens().len(), 2);
}

#[tokio::test]
async fn a_source_token_reads_one_repository_and_nothing_else() {
    let github = app_fake().await;
    github.add_file(REPO, SHA, "buildspec.yml", b"version: 0.2\n");
    let client = app_client(&github, system_clock());
    let SourceToken { token, expires_at_ms } =
        client.source_token(&repo()).await.expect("the call succeeds");
    assert!(expires_at_ms.is_some());

    let minted = github.requests_to(Route::AccessTokens);
    assert_eq!(minted.len(), 1);
    assert_eq!(
        minted[0].json().expect("a json body"),
        json!({"repositories": ["hello-world"], "permissions": {"contents": "read"}})
    );
    assert_eq!(github.issued_tokens()[0].token, token.expose_secret());

    let config = kiln_github::GitHubConfig::new(kiln_github::GitHubAuth::Token(token.clone()))
        .api_url(github.api_url());
    let build = kiln_github::GitHubClient::new(config).expect("a valid configuration");
    let host = GitHubSourceHost::new(build.clone());
    assert_eq!(
        host.file_at(&repo(), &sha(), "buildspec.yml").await.expect("the call succeeds"),
        b"version: 0.2\n"
    );
    let denied = GitHubStatusReporter::new(build)
        .post(&status(CommitState::Success, "x"))
        .await
        .expect_err("the status is refused");
    assert_eq!(denied.kind, PortErrorKind::Permanent, "the build's token cannot post statuses");
    assert!(chain(&denied).contains("403"), "{}", chain(&denied));

    client.source_token(&repo()).await.expect("the call succeeds");
    assert_eq!(github.requests_to(Route::AccessTokens).len(), 2, "never cached");
    github.assert_no_violations();
}

#[tokio::test]
async fn a_personal_token_is_handed_to_builds_only_when_allowed() {
    let github = fake().await;
    let error = token_client(&github).source_token(&repo()).await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    assert!(chain(&error).contains("configure a github app"), "{}", chain(&error));

    let local =
        kiln_github::GitHubClient::new(token_config(&github).personal_token_for_builds(true))
            .expect("a valid configuration");
    let token = local.source_token(&repo()).await.expect("the call succeeds");
    assert_eq!(token.token.expose_secret(), TOKEN);
    assert_eq!(SourceToken::USERNAME, "x-access-token");
    assert!(github.requests().is_empty());
}

#[tokio::test]
async fn a_repository_without_the_app_is_not_found() {
    let github = app_fake().await;
    github.add_commit("octo-org/other", SHA, "m");
    let reporter = GitHubStatusReporter::new(app_client(&github, system_clock()));
    let mut other = status(CommitState::Pending, "Build started");
    other.repository =
        kiln_core::webhook::RepoFullName::parse("octo-org/other").expect("a repository name");
    let error = reporter.post(&other).await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::NotFound);
    assert!(github.requests_to(Route::Statuses).is_empty());
    assert!(github.requests_to(Route::AccessTokens).is_empty());
}
