//! Superseding (kiln's own `kiln.supersede: true`, off by default as CodeBuild has no such
//! feature): a newer build of a project for the same branch or pull request stops the older
//! builds of it that have not ended. The older build ends STOPPED, its status `error` with
//! "superseded by <sha>". Builds are compared by their `CODEBUILD_WEBHOOK_TRIGGER`
//! (`branch/main`, `pr/8`); tags and releases are never superseded.

use crate::build::{Build, BuildState};
use crate::ports::PortErrorKind;
use crate::project::Project;

use super::finalize::{Conclusion, conclude};
use super::{CAS_ATTEMPTS, Ports};

/// What `build` supersedes: the trigger it shares with older builds of its project, when it
/// has one that can be superseded.
fn key(build: &Build) -> Option<&str> {
    let trigger = build.webhook.as_ref()?.trigger.as_deref()?;
    (trigger.starts_with("branch/") || trigger.starts_with("pr/")).then_some(trigger)
}

/// Stops the open builds of `project` that `newer` supersedes; returns how many.
pub async fn supersede_older(ports: Ports<'_>, newer: &Build, project: &Project) -> usize {
    if !project.kiln.as_ref().and_then(|k| k.supersede).unwrap_or(false) {
        return 0;
    }
    let Some(trigger) = key(newer) else { return 0 };
    let open = match ports.builds.list_open().await {
        Ok(open) => open,
        Err(e) => {
            tracing::warn!(error = %crate::error_chain(&e), "list open builds to supersede");
            return 0;
        }
    };
    let sha = newer.resolved_source_version.as_deref().unwrap_or("a newer commit");
    let reason = format!("superseded by {}", &sha[..sha.len().min(12)]);
    let mut stopped = 0;
    for older in open.into_iter().filter(|b| {
        b.identity.project == newer.identity.project
            && b.identity.number < newer.identity.number
            && key(b) == Some(trigger)
    }) {
        let Some(marked) = mark(ports, older, &reason).await else { continue };
        match &marked.task {
            Some(task) => {
                if let Err(e) = ports.runner.stop(task, &reason).await {
                    tracing::warn!(build = %marked.build_ref(), error = %crate::error_chain(&e), "stop a superseded build");
                    continue;
                }
            }
            None => {
                let conclusion =
                    Conclusion::Forced { state: BuildState::Stopped, reason: reason.clone() };
                if let Err(e) = conclude(ports, &marked.build_ref(), conclusion).await {
                    tracing::warn!(build = %marked.build_ref(), error = %crate::error_chain(&e), "end a superseded build");
                    continue;
                }
            }
        }
        stopped += 1;
    }
    stopped
}

/// Records why `build` is being stopped, unless it ended meanwhile.
async fn mark(ports: Ports<'_>, mut build: Build, reason: &str) -> Option<Build> {
    for _ in 0..CAS_ATTEMPTS {
        if build.state.is_terminal() {
            return None;
        }
        build.reason = Some(reason.to_owned());
        match ports.builds.update(&build).await {
            Ok(stored) => return Some(stored),
            Err(e) if e.kind == PortErrorKind::Conflict => {
                build = ports.builds.read(&build.build_ref()).await.ok()?;
            }
            Err(e) => {
                tracing::warn!(error = %crate::error_chain(&e), "mark a superseded build");
                return None;
            }
        }
    }
    None
}
