//! Retries: 5xx and rate limits are retried within the policy, other 4xx never.

use std::time::{Duration, Instant};

use kiln_core::ports::{PortErrorKind, StatusReporter};
use kiln_core::status::CommitState;
use kiln_fake_github::{Failure, Route};
use kiln_github::{GitHubClient, GitHubStatusReporter, RetryPolicy, Timeouts};

use crate::support::*;

fn reporter(github: &kiln_fake_github::FakeGitHub) -> GitHubStatusReporter {
    GitHubStatusReporter::new(token_client(github))
}

fn answers(github: &kiln_fake_github::FakeGitHub) -> Vec<u16> {
    github.requests_to(Route::Statuses).iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn two_502s_then_success_is_a_success_in_three_requests() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 2, Failure::Status(502));
    reporter(&github)
        .post(&status(CommitState::Success, "Build succeeded"))
        .await
        .expect("the call succeeds");
    assert_eq!(answers(&github), [502, 502, 201]);
    assert_eq!(github.statuses().len(), 1);
    github.assert_no_violations();
}

#[tokio::test]
async fn retries_stop_after_the_last_attempt_as_unavailable() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 5, Failure::Status(503));
    let error = reporter(&github)
        .post(&status(CommitState::Success, "x"))
        .await
        .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Unavailable);
    assert!(error.is_retryable());
    assert_eq!(answers(&github), [503, 503, 503]);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 1, Failure::RetryAfter { status: 429, seconds: 1 });
    let start = Instant::now();
    reporter(&github).post(&status(CommitState::Pending, "x")).await.expect("the call succeeds");
    assert!(start.elapsed() >= Duration::from_secs(1), "waited {:?}", start.elapsed());
    assert_eq!(answers(&github), [429, 201]);
}

#[tokio::test]
async fn a_wait_longer_than_the_budget_fails_at_once_as_throttled() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 1, Failure::RetryAfter { status: 429, seconds: 30 });
    let start = Instant::now();
    let error = reporter(&github)
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Throttled);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(answers(&github), [429]);
}

#[tokio::test]
async fn a_secondary_rate_limit_is_throttled_and_waited_out_when_the_budget_allows() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 1, Failure::SecondaryRateLimit { retry_after: None });
    let error = reporter(&github)
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Throttled, "a minute is past the budget");
    assert_eq!(answers(&github), [403]);

    github.fail_next(Route::Statuses, 1, Failure::SecondaryRateLimit { retry_after: Some(1) });
    reporter(&github).post(&status(CommitState::Pending, "x")).await.expect("the call succeeds");
    assert_eq!(answers(&github), [403, 403, 201]);
}

#[tokio::test]
async fn an_exhausted_rate_limit_waits_for_the_reset() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 1, Failure::RateLimitExhausted { reset_in: 1 });
    reporter(&github).post(&status(CommitState::Pending, "x")).await.expect("the call succeeds");
    assert_eq!(answers(&github), [403, 201]);
}

#[tokio::test]
async fn not_found_and_refusals_are_never_retried() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 1, Failure::Status(404));
    let error = reporter(&github)
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::NotFound);
    github.fail_next(Route::Statuses, 1, Failure::Status(422));
    let error = reporter(&github)
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    github.fail_next(Route::Statuses, 1, Failure::Status(403));
    let error = reporter(&github)
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    github.fail_next(Route::Statuses, 1, Failure::Status(409));
    let error = reporter(&github)
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    assert_eq!(answers(&github), [404, 422, 403, 409]);
}

#[tokio::test]
async fn a_bad_token_is_permanent() {
    let github = fake().await;
    let config = kiln_github::GitHubConfig::new(kiln_github::GitHubAuth::token("wrong"))
        .api_url(github.api_url());
    let error =
        GitHubStatusReporter::new(GitHubClient::new(config).expect("a valid configuration"))
            .post(&status(CommitState::Pending, "x"))
            .await
            .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    assert!(chain(&error).contains("401 Unauthorized: Bad credentials"), "{}", chain(&error));
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_tried_again() {
    let github = fake().await;
    github.fail_next(Route::Statuses, 1, Failure::Delay(Duration::from_secs(2)));
    let timeouts =
        Timeouts { connect: Duration::from_secs(1), request: Duration::from_millis(300) };
    let client =
        GitHubClient::new(token_config(&github).timeouts(timeouts)).expect("a valid configuration");
    let start = Instant::now();
    GitHubStatusReporter::new(client)
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect("the call succeeds");
    assert!(start.elapsed() < Duration::from_secs(2), "did not wait for the slow answer");
    assert_eq!(github.statuses().len(), 1);
    assert_eq!(answers(&github), [0, 201], "the first attempt was given up, the second answered");
}

#[tokio::test]
async fn nothing_listening_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    drop(listener);
    let config = kiln_github::GitHubConfig::new(kiln_github::GitHubAuth::token(TOKEN))
        .api_url(url)
        .retry(fast_retry());
    let error =
        GitHubStatusReporter::new(GitHubClient::new(config).expect("a valid configuration"))
            .post(&status(CommitState::Pending, "x"))
            .await
            .expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Unavailable);
}

#[test]
fn the_intake_policy_stays_well_within_githubs_ten_seconds() {
    let intake = RetryPolicy::intake();
    assert!(intake.budget <= Duration::from_secs(4));
    assert!(RetryPolicy::background().budget > intake.secondary_rate_limit_wait);
    assert_eq!(RetryPolicy::once().max_attempts, 1);
}
