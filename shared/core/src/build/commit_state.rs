//! Build status → GitHub commit status state and description (spec §7.5, S01–S03).
//!
//! FAILED and TIMED_OUT map to `failure`; FAULT and STOPPED to `error` [INF, spec §7.5].

use std::fmt;

/// A GitHub commit status state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommitState {
    /// `pending`.
    Pending,
    /// `success`.
    Success,
    /// `failure`.
    Failure,
    /// `error`.
    Error,
}

impl CommitState {
    /// The name GitHub uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for CommitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The commit state for a build whose CodeBuild status is `status`: `pending` while it runs,
/// FAILED and TIMED_OUT → `failure`, FAULT and STOPPED → `error` [INF, spec §7.5].
pub fn commit_state(status: super::Status) -> CommitState {
    use super::Status;
    match status {
        Status::InProgress => CommitState::Pending,
        Status::Succeeded => CommitState::Success,
        Status::Failed | Status::TimedOut => CommitState::Failure,
        Status::Fault | Status::Stopped => CommitState::Error,
    }
}

/// The state and description for a build of `project` whose CodeBuild status is `status`
/// (`IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `FAULT`, `TIMED_OUT`, `STOPPED`). Unknown statuses
/// are reported as `error`, so nothing stays pending.
pub fn commit_status(status: &str, project: &str) -> (CommitState, String) {
    match status {
        "IN_PROGRESS" | "QUEUED" | "SUBMITTED" => {
            (CommitState::Pending, format!("Build started for project {project}"))
        }
        "SUCCEEDED" => (CommitState::Success, format!("Build succeeded for project {project}")),
        "FAILED" | "TIMED_OUT" => {
            (CommitState::Failure, format!("Build failed for project {project}"))
        }
        "STOPPED" => (CommitState::Error, format!("Build stopped for project {project}")),
        _ => (CommitState::Error, format!("Build failed for project {project}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s01_to_s03_and_inferred_mappings() {
        assert_eq!(
            commit_status("IN_PROGRESS", "proj"),
            (CommitState::Pending, "Build started for project proj".to_owned())
        );
        assert_eq!(commit_status("SUCCEEDED", "proj").1, "Build succeeded for project proj");
        assert_eq!(commit_status("FAILED", "proj").0, CommitState::Failure);
        assert_eq!(commit_status("FAILED", "proj").1, "Build failed for project proj");
        assert_eq!(commit_status("TIMED_OUT", "p").0, CommitState::Failure);
        assert_eq!(commit_status("FAULT", "p").0, CommitState::Error);
        assert_eq!(commit_status("STOPPED", "p").0, CommitState::Error);
    }
}
