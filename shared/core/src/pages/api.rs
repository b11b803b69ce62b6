//! The build as JSON (`GET /api/builds/{project}/{number}`): the agent's summary once the build
//! has ended, else a summary made from the record (the same document as `kiln run --summary`,
//! without phases yet).

use crate::build::{Build, BuildSummary, Status};

/// The document `GET /api/builds/…` serves for `build`: `summary` when the build has ended and
/// the agent wrote one, otherwise [`provisional_summary`].
pub fn api_summary(build: &Build, summary: Option<BuildSummary>) -> BuildSummary {
    match summary {
        Some(s) if build.state.is_terminal() => s,
        _ => provisional_summary(build),
    }
}

/// The summary of a build the agent has not reported on yet (or one that ended without): its
/// status, times, versions, initiator, timeout and image from the record.
pub fn provisional_summary(build: &Build) -> BuildSummary {
    let status = if build.state.is_terminal() { build.state.status() } else { Status::InProgress };
    let mut s = BuildSummary::new(
        &build.identity,
        status,
        build.start_time,
        build.end_time.unwrap_or(build.start_time),
    );
    s.build_complete = build.state.is_terminal();
    s.source_version.clone_from(&build.source_version);
    s.resolved_source_version.clone_from(&build.resolved_source_version);
    s.initiator.clone_from(&build.initiator);
    s.timeout_in_minutes = build.timeout_seconds.div_ceil(60);
    s.environment.image.clone_from(&build.environment.image);
    s
}
