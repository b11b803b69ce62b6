//! GitHub Enterprise Server: the API under a path prefix.

use kiln_core::ports::{SourceHost, StatusReporter};
use kiln_core::status::CommitState;
use kiln_fake_github::{FakeGitHub, FakeOptions, Route};
use kiln_github::{GitHubSourceHost, GitHubStatusReporter};

use crate::support::*;

#[tokio::test]
async fn every_call_goes_under_the_api_urls_path() {
    let github = FakeGitHub::start_with(FakeOptions {
        path_prefix: "/api/v3".into(),
        ..FakeOptions::default()
    })
    .await;
    assert!(github.api_url().ends_with("/api/v3"));
    github.add_token(TOKEN);
    github.add_commit(REPO, SHA, "message");
    github.add_file(REPO, SHA, "buildspec.yml", b"version: 0.2\n");
    github.add_pull_request(REPO, 3, (0..150).map(|i| format!("f{i}")));
    let config = token_config(&github).api_url(format!("{}/", github.api_url()));
    let client = kiln_github::GitHubClient::new(config).expect("a valid configuration");
    assert_eq!(client.api_url(), github.api_url());

    GitHubStatusReporter::new(client.clone())
        .post(&status(CommitState::Pending, "x"))
        .await
        .expect("the status is posted");
    let host = GitHubSourceHost::new(client);
    assert_eq!(
        host.pull_request_details(&repo(), 3, &sha())
            .await
            .expect("the call succeeds")
            .changed_files
            .len(),
        150
    );
    assert_eq!(
        host.file_at(&repo(), &sha(), "buildspec.yml").await.expect("the call succeeds"),
        b"version: 0.2\n"
    );

    let requests = github.requests();
    assert_eq!(requests.len(), 5);
    for request in &requests {
        assert!(request.path.starts_with("/api/v3/repos/"), "{}", request.path);
        assert!(request.route.is_some() && request.status < 300, "{request:?}");
    }
    assert_eq!(github.requests_to(Route::PullFiles).len(), 2);
    github.assert_no_violations();
}
