//! The log relay: a batch of a build's log lines (the build container's stdout, as a
//! CloudWatch Logs subscription delivers it) appended to the build's log archive once, and the
//! build's pending commit status told how far the build has got (`BUILD running · 2 of 4
//! phases`), at most once per [`RelayPolicy::progress_interval_ms`].
//!
//! Where the relay remembers: in the archive — the [`RelayMark`] is stored with the log (S3
//! user metadata on `build.log`) and written in the same compare-and-swap as the lines, so a
//! redelivered batch is appended once and two invocations racing to post progress post it
//! once. The build record is only read.
//!
//! A progress status is `pending`; it is never posted on a build whose record has ended, and
//! when the build ends while one is being posted (the finalizer's final status may then reach
//! GitHub first), the final status is posted again after it, so that GitHub's last word on the
//! commit is the final one.

use crate::build::{Build, BuildRef};
use crate::logs::{LogsEvent, Masker, RelayMark, archive_lines};
use crate::ports::{BuildStore, LogArchive, PortError, PortErrorKind};
use crate::status::{CommitState, describe};

use super::report::status_of;
use super::{CAS_ATTEMPTS, Ports};

/// How many of a project's newest builds are searched for the one a log stream belongs to.
const STREAM_SEARCH: usize = 50;

/// How the relay paces progress statuses.
#[derive(Debug, Clone)]
pub struct RelayPolicy {
    /// The least time between two progress descriptions of a build, in milliseconds.
    pub progress_interval_ms: i64,
}

impl Default for RelayPolicy {
    fn default() -> Self {
        Self { progress_interval_ms: 5_000 }
    }
}

/// What a relay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relayed {
    /// Lines appended to the archive.
    pub appended: usize,
    /// Whether the batch had been appended before (nothing was done).
    pub duplicate: bool,
    /// The progress description posted, if one was.
    pub progress: Option<String>,
}

/// Why a batch could not be relayed (the invocation fails and is retried).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The archive or the record could not be read or written.
    #[error("relay the build's log")]
    Port(#[from] PortError),
    /// Others kept writing the archive.
    #[error("relay the build's log: the archive kept changing")]
    Contended,
}

impl RelayError {
    /// Whether relaying the same batch again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Port(e) => e.is_retryable(),
            Self::Contended => true,
        }
    }
}

/// The project and task id of an awslogs stream of a build container:
/// `<project>/build/<task id>`.
pub fn stream_task(stream: &str) -> Option<(&str, &str)> {
    let (project, rest) = stream.split_once('/')?;
    let task = rest.strip_prefix("build/")?;
    (!project.is_empty() && !task.is_empty() && !task.contains('/')).then_some((project, task))
}

/// The build whose task writes the log stream `stream`, among its project's newest builds.
///
/// # Errors
/// The build store's [`PortError`].
pub async fn build_of_stream(
    builds: &dyn BuildStore,
    stream: &str,
) -> Result<Option<Build>, PortError> {
    let Some((project, task)) = stream_task(stream) else { return Ok(None) };
    let suffix = format!("/{task}");
    let recent = builds.list_recent(Some(project), STREAM_SEARCH).await?;
    Ok(recent.into_iter().find(|b| {
        b.identity.project == project
            && b.task.as_ref().is_some_and(|t| t.0 == task || t.0.ends_with(&suffix))
    }))
}

/// Relays `events` of `build`'s log: see the module docs.
///
/// # Errors
/// [`RelayError`] when the archive or the record could not be read or written; nothing was
/// appended then, and the same batch may be relayed again.
#[tracing::instrument(skip_all, fields(build = %build, events = events.len()))]
pub async fn relay(
    ports: Ports<'_>,
    archive: &dyn LogArchive,
    masker: &Masker,
    policy: &RelayPolicy,
    build: &BuildRef,
    events: &[LogsEvent],
) -> Result<Relayed, RelayError> {
    let Some(first) = events.first() else { return Ok(Relayed::default()) };
    let record = ports.builds.read(build).await?;
    let lines = archive_lines(events, masker);
    for _ in 0..CAS_ATTEMPTS {
        let stored = archive.read(build).await?;
        let (mut text, mut mark, version) = match stored {
            Some(a) => (a.text, a.mark, Some(a.version)),
            None => (Vec::new(), RelayMark::default(), None),
        };
        if mark.has_batch(&first.id) {
            return Ok(Relayed { duplicate: true, ..Relayed::default() });
        }
        text.extend_from_slice(&lines);
        mark.remember_batch(&first.id);
        for event in events {
            mark.progress.observe(&event.message);
        }
        let now = ports.clock.now_ms();
        let progress = mark.progress.describe().filter(|d| {
            !record.state.is_terminal()
                && mark.progress_posted.as_ref() != Some(d)
                && mark
                    .progress_posted_ms
                    .is_none_or(|at| now.saturating_sub(at) >= policy.progress_interval_ms)
        });
        if let Some(description) = &progress {
            mark.progress_posted_ms = Some(now);
            mark.progress_posted = Some(description.clone());
        }
        match archive.write(build, text, &mark, version.as_deref()).await {
            Ok(()) => {
                if let Some(description) = &progress {
                    post_progress(ports, build, description).await;
                }
                return Ok(Relayed { appended: events.len(), duplicate: false, progress });
            }
            Err(e) if e.kind == PortErrorKind::Conflict => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(RelayError::Contended)
}

/// Posts `description` as `build`'s pending status, unless it has ended; posts the final
/// status again when the build ended meanwhile.
async fn post_progress(ports: Ports<'_>, build: &BuildRef, description: &str) {
    let record = match ports.builds.read(build).await {
        Ok(r) if !r.state.is_terminal() => r,
        Ok(_) => return,
        Err(error) => {
            tracing::warn!(error = %crate::error_chain(&error), "read the record to post progress");
            return;
        }
    };
    let Some(status) = status_of(&record, CommitState::Pending, description.to_owned()) else {
        return;
    };
    if let Err(error) = ports.statuses.post(&status).await {
        tracing::info!(error = %crate::error_chain(&error), "progress status not posted");
        return;
    }
    let after = match ports.builds.read(build).await {
        Ok(r) => r,
        Err(error) => {
            tracing::warn!(error = %crate::error_chain(&error), "re-read the record after posting progress");
            return;
        }
    };
    if after.state.is_terminal() {
        let text = describe(&after.identity.project, after.state, after.reason.as_deref());
        if let Some(status) = status_of(&after, after.wanted_commit_state(), text)
            && let Err(error) = ports.statuses.post(&status).await
        {
            tracing::warn!(error = %crate::error_chain(&error), "final status not posted again after progress; the sweeper will");
            forget_posted(ports, after).await;
        }
    }
}

/// Records that GitHub's last word on `build` is no longer its final status, so the sweeper
/// posts that again.
async fn forget_posted(ports: Ports<'_>, mut build: Build) {
    for _ in 0..CAS_ATTEMPTS {
        if let Some(report) = build.status_report.as_mut() {
            report.posted = None;
        }
        match ports.builds.update(&build).await {
            Ok(_) => return,
            Err(e) if e.kind == PortErrorKind::Conflict => {
                match ports.builds.read(&build.build_ref()).await {
                    Ok(fresh) => build = fresh,
                    Err(_) => return,
                }
            }
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "record that the final status must be posted again");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_name_their_project_and_task() {
        assert_eq!(stream_task("web/build/0123abcd"), Some(("web", "0123abcd")));
        assert_eq!(stream_task("web/init/0123abcd"), None);
        assert_eq!(stream_task("testLogStream"), None);
        assert_eq!(stream_task("web/build/a/b"), None);
    }
}
