//! The Git host the repositories live on.

use super::PortFuture;

/// The largest file [`SourceHost::file_at`] returns (a buildspec is far smaller).
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// What the source host knows of a pull request beyond its webhook payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequestDetails {
    /// Paths of the files the pull request changes (GitHub's "files" list).
    pub changed_files: Vec<String>,
    /// The message of the pull request's head commit.
    pub head_commit_message: Option<String>,
}

/// The Git host the repositories live on (GitHub): what intake cannot read from a payload.
///
/// Contract:
/// - `pull_request_details` describes pull request `number` of `repo` as of `head_sha`; an
///   adapter that can only read the current head still answers, and the core accepts the
///   race (a later push sends its own delivery);
/// - it is read-only and may be called any number of times; intake calls it at most once per
///   delivery, and only when a filter group needs `FILE_PATH` or `COMMIT_MESSAGE` of a pull
///   request;
/// - `NotFound` means the pull request or repository is gone (no build); `Throttled` and
///   `Unavailable` may be retried; the others may not.
pub trait SourceHost: Send + Sync {
    /// The changed files and head commit message of a pull request.
    fn pull_request_details<'a>(
        &'a self,
        repo: &'a crate::webhook::RepoFullName,
        number: u64,
        head_sha: &'a crate::webhook::CommitSha,
    ) -> PortFuture<'a, PullRequestDetails>;

    /// The contents of `path` at `commit` of `repo`.
    fn file_at<'a>(
        &'a self,
        repo: &'a crate::webhook::RepoFullName,
        commit: &'a crate::webhook::CommitSha,
        path: &'a str,
    ) -> PortFuture<'a, Vec<u8>>;
}

/// Credentials a build fetches its source with.
///
/// Contract: [`SourceCredentials::fetch_token`] returns a credential that can read `repo` and
/// nothing more where the host allows it (a GitHub App's installation token scoped to the one
/// repository with `contents: read`), or `None` when the repository is readable without one.
/// The runner hands it to the agent for the fetch only; it never reaches a build's commands,
/// its log or its files. `Throttled` and `Unavailable` may be retried.
pub trait SourceCredentials: Send + Sync {
    /// A credential that reads `repo`.
    fn fetch_token<'a>(
        &'a self,
        repo: &'a crate::webhook::RepoFullName,
    ) -> PortFuture<'a, Option<secrecy::SecretString>>;
}
