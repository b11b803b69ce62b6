//! `LocalSourceHost`: the [`SourceHost`] port over a directory on this machine and what the
//! user says of a pull request (`kiln run --event`, `kiln resolve --changed-files
//! --commit-message`).
//!
//! Files are read from the directory whatever the repository and commit asked (the working
//! tree stands for the commit); without a directory every file is `NotFound`. A pull request's
//! details are the ones given; without them a request for them fails as `Unavailable`, so a
//! filter that needs them does not build and says why.

use std::path::{Component, Path, PathBuf};

use kiln_core::ports::{
    MAX_FILE_BYTES, PortError, PortErrorKind, PortFuture, PullRequestDetails, SourceHost,
};
use kiln_core::webhook::{CommitSha, RepoFullName};

/// A source host on this machine.
#[derive(Debug, Clone, Default)]
pub struct LocalSourceHost {
    root: Option<PathBuf>,
    details: Option<PullRequestDetails>,
}

impl LocalSourceHost {
    /// A host serving files from `root` (none when `None`) and pull request `details` (when
    /// given).
    pub fn new(root: Option<PathBuf>, details: Option<PullRequestDetails>) -> Self {
        Self { root, details }
    }
}

impl SourceHost for LocalSourceHost {
    fn pull_request_details<'a>(
        &'a self,
        _: &'a RepoFullName,
        number: u64,
        _: &'a CommitSha,
    ) -> PortFuture<'a, PullRequestDetails> {
        Box::pin(async move {
            self.details.clone().ok_or_else(|| {
                PortError::new(
                    PortErrorKind::Unavailable,
                    format!("read the files and head commit message of pull request #{number}: not given"),
                )
            })
        })
    }

    fn file_at<'a>(
        &'a self,
        _: &'a RepoFullName,
        _: &'a CommitSha,
        path: &'a str,
    ) -> PortFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let op = || format!("read {path}");
            let Some(root) = &self.root else {
                return Err(PortError::new(PortErrorKind::NotFound, op()));
            };
            let rel = Path::new(path);
            if rel.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
                return Err(PortError::new(
                    PortErrorKind::Permanent,
                    format!("{}: not a path in the repository", op()),
                ));
            }
            let file = root.join(rel);
            let meta = std::fs::metadata(&file).map_err(|e| {
                let kind = if e.kind() == std::io::ErrorKind::NotFound {
                    PortErrorKind::NotFound
                } else {
                    PortErrorKind::Permanent
                };
                PortError::new(kind, op()).with_source(e)
            })?;
            if !meta.is_file() {
                return Err(PortError::new(
                    PortErrorKind::Permanent,
                    format!("{}: not a file", op()),
                ));
            }
            if meta.len() > MAX_FILE_BYTES as u64 {
                return Err(PortError::new(
                    PortErrorKind::Permanent,
                    format!("{}: larger than {MAX_FILE_BYTES} bytes", op()),
                ));
            }
            std::fs::read(&file)
                .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))
        })
    }
}
