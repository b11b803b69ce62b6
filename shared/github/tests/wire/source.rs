//! Pull request files across pages, the head commit's message, and files at a commit.

use kiln_core::ports::{MAX_FILE_BYTES, PortErrorKind, SourceHost};
use kiln_fake_github::Route;
use kiln_github::GitHubSourceHost;

use crate::support::*;

#[tokio::test]
async fn pull_request_files_are_read_across_every_page_with_the_head_message() {
    let github = fake().await;
    let files: Vec<String> = (0..250).map(|i| format!("src/file{i:03}.rs")).collect();
    github.add_pull_request(REPO, 8, files.clone());
    let host = GitHubSourceHost::new(token_client(&github));

    let details = host.pull_request_details(&repo(), 8, &sha()).await.expect("the call succeeds");
    assert_eq!(details.changed_files, files);
    assert_eq!(details.head_commit_message.as_deref(), Some("Fix all the bugs\n\nAnd a body."));

    let pages: Vec<_> = github
        .requests_to(Route::PullFiles)
        .iter()
        .map(|r| (r.query_param("per_page"), r.query_param("page")))
        .collect();
    let page = |p: Option<&str>| (Some("100".to_owned()), p.map(str::to_owned));
    assert_eq!(pages, [page(None), page(Some("2")), page(Some("3"))]);
    let commits = github.requests_to(Route::Commit);
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0].path, format!("/repos/{REPO}/git/commits/{SHA}"));
    github.assert_no_violations();
}

#[tokio::test]
async fn a_pull_request_that_is_gone_is_not_found() {
    let github = fake().await;
    let host = GitHubSourceHost::new(token_client(&github));
    let error = host.pull_request_details(&repo(), 99, &sha()).await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::NotFound);
    assert_eq!(error.operation, format!("list the files of pull request #99 of {REPO}"));
}

#[tokio::test]
async fn a_file_is_read_at_the_commit() {
    let github = fake().await;
    github.add_file(REPO, SHA, "buildspec.yml", b"version: 0.2\nphases: {}\n");
    github.add_file(REPO, SHA, "ci/build spec#1.yml", b"version: 0.2\n");
    let host = GitHubSourceHost::new(token_client(&github));

    assert_eq!(
        host.file_at(&repo(), &sha(), "buildspec.yml").await.expect("the call succeeds"),
        b"version: 0.2\nphases: {}\n"
    );
    assert_eq!(
        host.file_at(&repo(), &sha(), "ci/build spec#1.yml").await.expect("the call succeeds"),
        b"version: 0.2\n"
    );

    let requests = github.requests_to(Route::Contents);
    assert_eq!(requests[0].path, format!("/repos/{REPO}/contents/buildspec.yml"));
    assert_eq!(requests[0].query.as_deref(), Some(format!("ref={SHA}").as_str()));
    assert_eq!(requests[1].path, format!("/repos/{REPO}/contents/ci/build%20spec%231.yml"));
    github.assert_no_violations();
}

#[tokio::test]
async fn a_missing_file_is_not_found_without_retry() {
    let github = fake().await;
    let host = GitHubSourceHost::new(token_client(&github));
    let error = host.file_at(&repo(), &sha(), "buildspec.yml").await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::NotFound);
    assert_eq!(error.operation, format!("read buildspec.yml at {REPO}@{SHA}"));
    assert_eq!(github.requests().len(), 1);
    github.assert_no_violations();
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_without_downloading_it() {
    let github = fake().await;
    github.add_file(REPO, SHA, "big.yml", &vec![b'a'; MAX_FILE_BYTES + 1]);
    let host = GitHubSourceHost::new(token_client(&github));
    let error = host.file_at(&repo(), &sha(), "big.yml").await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    assert!(
        chain(&error).contains(&format!("larger than {MAX_FILE_BYTES} bytes")),
        "{}",
        chain(&error)
    );
    assert_eq!(github.requests().len(), 1, "the size in the json is enough to refuse it");
}

#[tokio::test]
async fn a_file_github_leaves_out_of_its_json_is_read_raw() {
    let github = fake().await;
    let large = vec![b'b'; 1_040_000];
    github.add_file(REPO, SHA, "large.yml", &large);
    let host = GitHubSourceHost::new(token_client(&github));
    assert_eq!(host.file_at(&repo(), &sha(), "large.yml").await.expect("the call succeeds"), large);

    let accepts: Vec<_> = github
        .requests_to(Route::Contents)
        .iter()
        .map(|r| r.header("accept").expect("the header is there").to_owned())
        .collect();
    assert_eq!(accepts, ["application/vnd.github+json", "application/vnd.github.raw+json"]);
    github.assert_no_violations();
}

#[tokio::test]
async fn a_directory_is_not_a_file() {
    let github = fake().await;
    github.add_file(REPO, SHA, "ci/buildspec.yml", b"version: 0.2\n");
    let host = GitHubSourceHost::new(token_client(&github));
    let error = host.file_at(&repo(), &sha(), "ci").await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    assert!(chain(&error).contains("a directory"), "{}", chain(&error));
    let error = host.file_at(&repo(), &sha(), "../etc/passwd").await.expect_err("the call fails");
    assert_eq!(error.kind, PortErrorKind::Permanent);
    assert_eq!(github.requests().len(), 1, "a path out of the repository is never asked for");
}
