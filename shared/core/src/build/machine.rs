//! The phase machine: which phase runs next, the build's status, `CODEBUILD_BUILD_SUCCEEDING`.
//!
//! Transitions follow spec §2.4. Choices where CodeBuild's behaviour is not documented [INF]:
//! - a failed INSTALL or PRE_BUILD goes straight to FINALIZING (no UPLOAD_ARTIFACTS) unless the
//!   phase says `on-failure: CONTINUE`;
//! - `on-failure: ABORT` skips every later phase, UPLOAD_ARTIFACTS included, and goes to
//!   FINALIZING;
//! - `RETRY*` is handled inside the phase (see [`super::PhaseRun`]); once the retries are spent
//!   the phase takes the default transition;
//! - a phase that times out, is stopped or faults sends the build straight to FINALIZING, and
//!   the build takes that status (TIMED_OUT, STOPPED, FAULT) over FAILED.
//!
//! A failed phase is never undone: the build is FAILED even when every later phase succeeds.

use crate::buildspec::{OnFailure, PhaseName, Phases};

use super::phase::{PhaseEnd, PhaseType, Status};

/// The build-level state machine. Feed it each phase's end with [`BuildMachine::complete`] and
/// ask [`BuildMachine::next_phase`] what runs next.
#[derive(Debug, Clone)]
pub struct BuildMachine {
    on_failure: [Option<OnFailure>; 4],
    failed: bool,
    terminal: Option<Status>,
    next: Option<PhaseType>,
}

impl Default for BuildMachine {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildMachine {
    /// A build that has been submitted: the next phase is SUBMITTED.
    pub fn new() -> Self {
        Self {
            on_failure: [None, None, None, None],
            failed: false,
            terminal: None,
            next: Some(PhaseType::Submitted),
        }
    }

    /// Takes the `on-failure` settings of the buildspec's phases (known after DOWNLOAD_SOURCE).
    pub fn configure(&mut self, phases: &Phases) {
        for (slot, name) in self.on_failure.iter_mut().zip(PhaseName::ALL) {
            *slot = phases.get(name).and_then(|p| p.on_failure.clone());
        }
    }

    /// The phase that runs next; `None` once COMPLETED has been reached.
    pub fn next_phase(&self) -> Option<PhaseType> {
        self.next
    }

    /// Records how `phase` ended and moves on.
    pub fn complete(&mut self, phase: PhaseType, end: &PhaseEnd) {
        match end.status {
            Status::Succeeded | Status::InProgress => {}
            Status::Failed => self.failed = true,
            Status::TimedOut | Status::Stopped | Status::Fault => {
                self.failed = true;
                self.terminal.get_or_insert(end.status);
            }
        }
        self.next = next_after(phase, end.status, self.on_failure_of(phase));
    }

    /// Stops the build from outside (a stop request or the build timeout between phases):
    /// the build takes `status` and goes to FINALIZING.
    pub fn interrupt(&mut self, status: Status) {
        self.failed = true;
        self.terminal.get_or_insert(status);
        if self.next.is_some_and(|p| p < PhaseType::Finalizing) {
            self.next = Some(PhaseType::Finalizing);
        }
    }

    /// `CODEBUILD_BUILD_SUCCEEDING`: true while no phase has failed.
    pub fn succeeding(&self) -> bool {
        !self.failed
    }

    /// The build's status: SUCCEEDED only if nothing failed; TIMED_OUT, STOPPED or FAULT when
    /// one of those ended a phase; FAILED otherwise.
    pub fn build_status(&self) -> Status {
        match (self.terminal, self.failed) {
            (Some(status), _) => status,
            (None, true) => Status::Failed,
            (None, false) => Status::Succeeded,
        }
    }

    fn on_failure_of(&self, phase: PhaseType) -> Option<&OnFailure> {
        let name = phase.buildspec_phase()?;
        let index = PhaseName::ALL.iter().position(|p| *p == name)?;
        self.on_failure[index].as_ref()
    }
}

/// The phase after `phase` ended with `status`, given the phase's `on-failure`.
pub fn next_after(
    phase: PhaseType,
    status: Status,
    on_failure: Option<&OnFailure>,
) -> Option<PhaseType> {
    use PhaseType as P;
    let following = match phase {
        P::Completed => return None,
        P::Finalizing => return Some(P::Completed),
        other => P::ALL.iter().copied().find(|p| *p > other),
    };
    match status {
        Status::Succeeded | Status::InProgress => following,
        Status::TimedOut | Status::Stopped | Status::Fault => Some(P::Finalizing),
        Status::Failed => match (phase, on_failure) {
            (_, Some(OnFailure::Abort)) => Some(P::Finalizing),
            (P::Install | P::PreBuild | P::Build | P::PostBuild, Some(OnFailure::Continue)) => {
                following
            }
            (P::Build | P::PostBuild, _) => following,
            _ => Some(P::Finalizing),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buildspec::Phase;
    use PhaseType as P;
    use test_case::test_case;

    fn retry() -> OnFailure {
        OnFailure::Retry { count: 2, pattern: None }
    }

    #[test_case(P::Submitted, Status::Succeeded, None, Some(P::Queued))]
    #[test_case(P::Provisioning, Status::Succeeded, None, Some(P::DownloadSource))]
    #[test_case(P::DownloadSource, Status::Succeeded, None, Some(P::Install))]
    #[test_case(P::DownloadSource, Status::Failed, None, Some(P::Finalizing))]
    #[test_case(P::Install, Status::Succeeded, None, Some(P::PreBuild))]
    #[test_case(P::Install, Status::Failed, None, Some(P::Finalizing))]
    #[test_case(P::Install, Status::Failed, Some(OnFailure::Continue), Some(P::PreBuild))]
    #[test_case(P::Install, Status::Failed, Some(OnFailure::Abort), Some(P::Finalizing))]
    #[test_case(P::Install, Status::Failed, Some(retry()), Some(P::Finalizing))]
    #[test_case(P::PreBuild, Status::Failed, None, Some(P::Finalizing))]
    #[test_case(P::PreBuild, Status::Failed, Some(OnFailure::Continue), Some(P::Build))]
    #[test_case(P::Build, Status::Failed, None, Some(P::PostBuild))]
    #[test_case(P::Build, Status::Failed, Some(retry()), Some(P::PostBuild))]
    #[test_case(P::Build, Status::Failed, Some(OnFailure::Continue), Some(P::PostBuild))]
    #[test_case(P::Build, Status::Failed, Some(OnFailure::Abort), Some(P::Finalizing))]
    #[test_case(P::PostBuild, Status::Failed, None, Some(P::UploadArtifacts))]
    #[test_case(P::PostBuild, Status::Failed, Some(OnFailure::Abort), Some(P::Finalizing))]
    #[test_case(P::PostBuild, Status::Succeeded, None, Some(P::UploadArtifacts))]
    #[test_case(P::UploadArtifacts, Status::Succeeded, None, Some(P::Finalizing))]
    #[test_case(P::UploadArtifacts, Status::Failed, None, Some(P::Finalizing))]
    #[test_case(P::Build, Status::TimedOut, None, Some(P::Finalizing))]
    #[test_case(P::Build, Status::TimedOut, Some(OnFailure::Continue), Some(P::Finalizing))]
    #[test_case(P::Install, Status::Stopped, None, Some(P::Finalizing))]
    #[test_case(P::Finalizing, Status::Failed, None, Some(P::Completed))]
    #[test_case(P::Finalizing, Status::Succeeded, None, Some(P::Completed))]
    #[test_case(P::Completed, Status::Succeeded, None, None)]
    fn transitions(
        phase: PhaseType,
        status: Status,
        on_failure: Option<OnFailure>,
        next: Option<PhaseType>,
    ) {
        assert_eq!(next_after(phase, status, on_failure.as_ref()), next);
    }

    fn phases(on_failure: &[(PhaseName, OnFailure)]) -> Phases {
        let mut phases = Phases::default();
        for name in PhaseName::ALL {
            let on_failure = on_failure.iter().find(|(n, _)| *n == name).map(|(_, o)| o.clone());
            *phases.get_mut(name) = Some(Phase { on_failure, ..Phase::default() });
        }
        phases
    }

    fn fail() -> PhaseEnd {
        PhaseEnd::failed(super::super::phase::PhaseContext::command_failed("false", 1))
    }

    /// Drives a whole build: `failing` phases fail, every other phase succeeds. Returns the
    /// phases run, the SUCCEEDING value seen at the start of each, and the final status.
    fn drive(phases: &Phases, failing: &[PhaseType]) -> (Vec<(PhaseType, bool)>, Status) {
        let mut machine = BuildMachine::new();
        machine.configure(phases);
        let mut seen = Vec::new();
        while let Some(phase) = machine.next_phase() {
            seen.push((phase, machine.succeeding()));
            if phase == P::Completed {
                break;
            }
            let end = if failing.contains(&phase) { fail() } else { PhaseEnd::succeeded() };
            machine.complete(phase, &end);
        }
        (seen, machine.build_status())
    }

    fn ran(seen: &[(PhaseType, bool)]) -> Vec<PhaseType> {
        seen.iter().map(|(p, _)| *p).filter(|p| *p >= P::DownloadSource).collect()
    }

    #[test]
    fn t01_everything_succeeds() {
        let (seen, status) = drive(&phases(&[]), &[]);
        assert_eq!(status, Status::Succeeded);
        assert_eq!(seen.len(), 11);
        assert!(seen.iter().all(|(_, ok)| *ok));
    }

    #[test]
    fn t02_install_failure_skips_to_finalizing() {
        let (seen, status) = drive(&phases(&[]), &[P::Install]);
        assert_eq!(ran(&seen), [P::DownloadSource, P::Install, P::Finalizing, P::Completed]);
        assert_eq!(status, Status::Failed);
    }

    #[test]
    fn t03_pre_build_failure_skips_to_finalizing() {
        let (seen, _) = drive(&phases(&[]), &[P::PreBuild]);
        assert_eq!(
            ran(&seen),
            [P::DownloadSource, P::Install, P::PreBuild, P::Finalizing, P::Completed]
        );
    }

    #[test]
    fn t04_build_failure_runs_post_build_with_succeeding_0() {
        let (seen, status) = drive(&phases(&[]), &[P::Build]);
        assert!(seen.contains(&(P::PostBuild, false)));
        assert!(seen.contains(&(P::UploadArtifacts, false)));
        assert!(seen.contains(&(P::Build, true)));
        assert_eq!(status, Status::Failed);
    }

    #[test]
    fn t05_t06_failure_is_never_undone() {
        for failing in [P::Build, P::PostBuild, P::UploadArtifacts] {
            let (seen, status) = drive(&phases(&[]), &[failing]);
            assert_eq!(status, Status::Failed, "{failing}");
            assert!(ran(&seen).contains(&P::Finalizing));
        }
        let (seen, _) = drive(&phases(&[]), &[P::PostBuild]);
        assert!(ran(&seen).contains(&P::UploadArtifacts));
    }

    #[test]
    fn t09_t10_continue_goes_on_and_still_fails() {
        let (seen, status) =
            drive(&phases(&[(PhaseName::PreBuild, OnFailure::Continue)]), &[P::PreBuild]);
        assert!(seen.contains(&(P::Build, false)));
        assert!(seen.contains(&(P::PostBuild, false)));
        assert_eq!(status, Status::Failed);
        let (seen, status) =
            drive(&phases(&[(PhaseName::Install, OnFailure::Continue)]), &[P::Install]);
        for p in [P::PreBuild, P::Build, P::PostBuild, P::UploadArtifacts] {
            assert!(ran(&seen).contains(&p), "{p}");
        }
        assert_eq!(status, Status::Failed);
    }

    #[test]
    fn t11_abort_skips_everything() {
        let (seen, status) = drive(&phases(&[(PhaseName::Build, OnFailure::Abort)]), &[P::Build]);
        assert_eq!(
            ran(&seen),
            [P::DownloadSource, P::Install, P::PreBuild, P::Build, P::Finalizing, P::Completed]
        );
        assert_eq!(status, Status::Failed);
    }

    #[test]
    fn download_source_failure() {
        let (seen, status) = drive(&phases(&[]), &[P::DownloadSource]);
        assert_eq!(ran(&seen), [P::DownloadSource, P::Finalizing, P::Completed]);
        assert_eq!(status, Status::Failed);
    }

    #[test]
    fn t26_timeout_wins_over_failed() {
        let mut machine = BuildMachine::new();
        machine.configure(&phases(&[]));
        machine.complete(P::Install, &fail());
        machine.complete(
            P::Build,
            &PhaseEnd::with(
                Status::TimedOut,
                super::super::phase::PhaseContext::new("BUILD_TIMED_OUT", "x"),
            ),
        );
        assert_eq!(machine.next_phase(), Some(P::Finalizing));
        assert_eq!(machine.build_status(), Status::TimedOut);
        assert!(!machine.succeeding());
    }

    #[test]
    fn interrupt_between_phases() {
        let mut machine = BuildMachine::new();
        machine.complete(P::Install, &PhaseEnd::succeeded());
        machine.interrupt(Status::Stopped);
        assert_eq!(machine.next_phase(), Some(P::Finalizing));
        assert_eq!(machine.build_status(), Status::Stopped);
        machine.complete(P::Finalizing, &PhaseEnd::succeeded());
        machine.interrupt(Status::TimedOut);
        assert_eq!(machine.next_phase(), Some(P::Completed));
        assert_eq!(machine.build_status(), Status::Stopped);
    }
}
