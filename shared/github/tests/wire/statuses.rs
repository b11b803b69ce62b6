//! Commit statuses: the exact bodies, headers and error kinds.

use kiln_core::ports::{PortErrorKind, StatusReporter};
use kiln_core::status::CommitState;
use kiln_fake_github::Route;
use kiln_github::GitHubStatusReporter;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn pending_then_success_are_posted_with_githubs_fields() {
    let github = fake().await;
    let reporter = GitHubStatusReporter::new(token_client(&github));
    reporter
        .post(&status(CommitState::Pending, "Build started for project hello"))
        .await
        .expect("the call succeeds");
    reporter
        .post(&status(CommitState::Success, "Build succeeded for project hello"))
        .await
        .expect("the status is posted");

    let requests = github.requests_to(Route::Statuses);
    assert_eq!(requests.len(), 2);
    let bodies: Vec<_> = requests.iter().map(|r| r.json().expect("a json body")).collect();
    assert_eq!(
        bodies,
        [
            json!({"state": "pending", "context": "AWS CodeBuild us-east-1 (hello)",
                   "description": "Build started for project hello", "target_url": "http://kiln.example/builds/hello/1"}),
            json!({"state": "success", "context": "AWS CodeBuild us-east-1 (hello)",
                   "description": "Build succeeded for project hello", "target_url": "http://kiln.example/builds/hello/1"}),
        ]
    );
    let first = &requests[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, format!("/repos/{REPO}/statuses/{SHA}"));
    assert_eq!(first.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(first.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(first.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert!(first.header("user-agent").is_some(), "github requires a user agent");

    let states: Vec<_> =
        github.statuses().into_iter().map(|s| (s.state, s.sha, s.context)).collect();
    assert_eq!(
        states,
        [
            ("pending".to_owned(), SHA.to_owned(), "AWS CodeBuild us-east-1 (hello)".to_owned()),
            ("success".to_owned(), SHA.to_owned(), "AWS CodeBuild us-east-1 (hello)".to_owned()),
        ]
    );
    github.assert_no_violations();
}

#[tokio::test]
async fn no_target_url_is_sent_when_there_is_none_and_long_descriptions_are_cut() {
    let github = fake().await;
    let reporter = GitHubStatusReporter::new(token_client(&github));
    let mut long = status(CommitState::Failure, &"x".repeat(300));
    long.target_url = None;
    reporter.post(&long).await.expect("the call succeeds");

    let body = github.requests_to(Route::Statuses)[0].json().expect("a json body");
    assert!(body.get("target_url").is_none(), "{body}");
    assert_eq!(body["description"].as_str().expect("a string").len(), 140);
    github.assert_no_violations();
}

#[tokio::test]
async fn a_status_on_an_unknown_commit_is_permanent_and_not_retried() {
    let github = fake().await;
    let reporter = GitHubStatusReporter::new(token_client(&github));
    let mut unknown = status(CommitState::Pending, "Build started");
    unknown.commit = kiln_core::webhook::CommitSha::parse(&"f".repeat(40)).expect("a commit sha");
    let error = reporter.post(&unknown).await.expect_err("the call fails");

    assert_eq!(error.kind, PortErrorKind::Permanent);
    let text = chain(&error);
    assert!(text.contains("422") && text.contains("No commit found"), "{text}");
    assert!(
        text.starts_with(&format!(
            "post status pending (AWS CodeBuild us-east-1 (hello)) on {REPO}@ffff"
        )),
        "{text}"
    );
    assert_eq!(github.requests_to(Route::Statuses).len(), 1);
    github.assert_no_violations();
}

#[tokio::test]
async fn a_status_on_an_unknown_repository_is_not_found() {
    let github = fake().await;
    let reporter = GitHubStatusReporter::new(token_client(&github));
    let mut elsewhere = status(CommitState::Pending, "Build started");
    elsewhere.repository =
        kiln_core::webhook::RepoFullName::parse("octo-org/gone").expect("a repository name");
    let error = reporter.post(&elsewhere).await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::NotFound);
    assert_eq!(github.requests().len(), 1);
}
