//! Posting the commit status a build's record calls for, and remembering GitHub's answer.

use crate::build::Build;
use crate::ports::{CommitStatus, PortErrorKind};
use crate::status::describe;

use super::{CAS_ATTEMPTS, Ports};

/// Posts the commit status `build`'s record calls for (`pending` while it runs, then the final
/// state), unless GitHub already confirmed that state, and records the confirmation. A failed
/// post is logged and left for [`super::sweep`] to retry; the newest record known is returned.
///
/// The state posted is derived from the record as it is now, so a late call never posts
/// `pending` over a final state recorded meanwhile.
#[tracing::instrument(skip_all, fields(build = %build.identity.id()))]
pub async fn report_status(ports: Ports<'_>, build: Build) -> Build {
    let Some(report) = &build.status_report else { return build };
    let wanted = build.wanted_commit_state();
    if report.posted == Some(wanted) {
        return build;
    }
    let description = describe(&build.identity.project, build.state, build.reason.as_deref());
    let Some(status) = status_of(&build, wanted, description) else { return build };
    match ports.statuses.post(&status).await {
        Ok(()) => record_posted(ports, build, wanted).await,
        Err(error) => {
            tracing::warn!(state = %wanted, error = %crate::error_chain(&error), "commit status not posted; it will be retried");
            build
        }
    }
}

/// The commit status `state` with `description` on the commit `build` reports on, if it
/// reports statuses.
pub(super) fn status_of(
    build: &Build,
    state: crate::status::CommitState,
    description: String,
) -> Option<CommitStatus> {
    let report = build.status_report.as_ref()?;
    Some(CommitStatus {
        repository: report.repository.clone(),
        commit: report.commit.clone(),
        state,
        context: report.context.clone(),
        description,
        target_url: report.target_url.clone(),
    })
}

/// Writes that GitHub confirmed `posted`, re-reading on a lost race; a record that moved on to
/// want another state is left for whoever moved it.
async fn record_posted(
    ports: Ports<'_>,
    mut build: Build,
    posted: crate::status::CommitState,
) -> Build {
    for _ in 0..CAS_ATTEMPTS {
        if let Some(report) = build.status_report.as_mut() {
            report.posted = Some(posted);
        }
        match ports.builds.update(&build).await {
            Ok(stored) => return stored,
            Err(e) if e.kind == PortErrorKind::Conflict => {
                match ports.builds.read(&build.build_ref()).await {
                    Ok(fresh) => {
                        let done =
                            fresh.status_report.as_ref().is_none_or(|r| r.posted == Some(posted));
                        if done || fresh.wanted_commit_state() != posted {
                            return fresh;
                        }
                        build = fresh;
                    }
                    Err(error) => {
                        tracing::warn!(error = %crate::error_chain(&error), "re-read the build record");
                        return build;
                    }
                }
            }
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "record the posted commit status");
                return build;
            }
        }
    }
    build
}
