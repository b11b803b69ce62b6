//! The two entry points the phase runner calls: the cache restore before INSTALL and
//! UPLOAD_ARTIFACTS after POST_BUILD.

use super::artifacts::upload_artifacts;
use super::boundary::{UploadInput, UploadOutcome};
use super::cache::{restore, save};
use super::reports::collect_reports;

/// Restores the build cache into place. Every failure is a warning in the log, never an error.
pub async fn restore_cache(input: &UploadInput<'_>, log: &mut (dyn FnMut(String) + Send)) {
    restore(input, log).await;
}

/// Runs UPLOAD_ARTIFACTS: artifacts, secondary artifacts, reports and the cache save.
///
/// Artifacts decide the phase's status; reports and the cache only ever add log lines.
pub async fn upload(
    input: &UploadInput<'_>,
    log: &mut (dyn FnMut(String) + Send),
) -> UploadOutcome {
    let mut outcome = UploadOutcome::default();
    upload_artifacts(input, log, &mut outcome).await;
    outcome.reports = collect_reports(input, log).await;
    save(input, log).await;
    outcome
}
