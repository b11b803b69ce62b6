//! Where commit statuses go (GitHub).

use super::PortFuture;
use crate::status::CommitState;
use crate::webhook::{CommitSha, RepoFullName};

/// The longest description GitHub accepts on a commit status.
pub const MAX_DESCRIPTION_CHARS: usize = 140;

/// One commit status to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    /// The repository.
    pub repository: RepoFullName,
    /// The commit.
    pub commit: CommitSha,
    /// `pending`, `success`, `failure` or `error`.
    pub state: CommitState,
    /// The context (one status line per context on GitHub).
    pub context: String,
    /// At most [`MAX_DESCRIPTION_CHARS`] characters.
    pub description: String,
    /// The link GitHub shows (the build page).
    pub target_url: Option<String>,
}

/// Posts commit statuses (later also check runs).
///
/// Contract:
/// - [`StatusReporter::post`] sets the status of `context` on `commit`; posting the same
///   status again is harmless (GitHub keeps the latest per context), so a retry after an
///   unknown outcome is safe;
/// - the services post at most one `pending` and then one terminal state per build, in that
///   order, and retry failed posts later (the build record remembers what was confirmed);
/// - `Throttled` and `Unavailable` (GitHub's 5xx, rate limits) may be retried; `NotFound`
///   and `Permanent` (no access, no such commit) will not succeed by retrying.
pub trait StatusReporter: Send + Sync {
    /// Posts `status`.
    fn post<'a>(&'a self, status: &'a CommitStatus) -> PortFuture<'a, ()>;
}
