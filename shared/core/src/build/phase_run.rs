//! Inside one phase: which command runs next, `finally`, and `on-failure: RETRY*`.
//!
//! Semantics (spec §1.4, §2.3):
//! - a failing command skips the rest of `commands`; `finally` then runs;
//! - the first failing `finally` command stops `finally` [INF, the spec's recommendation];
//! - the phase succeeds only if every command it ran succeeded; its context is the first
//!   failure's;
//! - `RETRY[-count][-regex]` [INF]: when a command of `commands` fails, the whole `commands` list
//!   runs again from the top, up to `count` more times, and only while the output of the failed
//!   attempt matches the regex (searched anywhere in it) when one is given. `finally` runs once,
//!   after the last attempt. A failing `finally` is not retried.

use regex::Regex;

use crate::buildspec::{OnFailure, Phase};

use super::phase::{PhaseContext, PhaseEnd};

/// What to run next in a phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Run `commands[index]`; `attempt` counts from 1 and grows with each retry.
    Command {
        /// Index into `commands`.
        index: usize,
        /// Which attempt of the phase's commands this is.
        attempt: u32,
    },
    /// Run `finally[index]`.
    Finally(usize),
    /// The phase is over.
    Done(PhaseEnd),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Commands(usize),
    Finally(usize),
    Done,
}

/// The progress of one phase. Ask [`PhaseRun::next`], run that, report it with
/// [`PhaseRun::succeeded`] or [`PhaseRun::failed`].
#[derive(Debug, Clone)]
pub struct PhaseRun {
    commands: usize,
    finally: usize,
    retries_left: u32,
    pattern: Option<Regex>,
    attempt: u32,
    cursor: Cursor,
    failure: Option<PhaseContext>,
}

impl PhaseRun {
    /// The start of `phase`. An invalid retry pattern (the parser rejects those) disables retries.
    pub fn new(phase: &Phase) -> Self {
        let (retries_left, pattern) = match &phase.on_failure {
            Some(OnFailure::Retry { count, pattern }) => match pattern {
                Some(p) => match Regex::new(p) {
                    Ok(re) => (*count, Some(re)),
                    Err(_) => (0, None),
                },
                None => (*count, None),
            },
            _ => (0, None),
        };
        let mut run = Self {
            commands: phase.commands.len(),
            finally: phase.finally.len(),
            retries_left,
            pattern,
            attempt: 1,
            cursor: Cursor::Commands(0),
            failure: None,
        };
        run.settle();
        run
    }

    /// What runs next.
    pub fn next(&self) -> Step {
        match self.cursor {
            Cursor::Commands(index) => Step::Command { index, attempt: self.attempt },
            Cursor::Finally(index) => Step::Finally(index),
            Cursor::Done => Step::Done(match &self.failure {
                None => PhaseEnd::succeeded(),
                Some(context) => PhaseEnd::failed(context.clone()),
            }),
        }
    }

    /// The step returned by [`PhaseRun::next`] succeeded.
    pub fn succeeded(&mut self) {
        self.cursor = match self.cursor {
            Cursor::Commands(i) => Cursor::Commands(i + 1),
            Cursor::Finally(i) => Cursor::Finally(i + 1),
            Cursor::Done => Cursor::Done,
        };
        self.settle();
    }

    /// The step returned by [`PhaseRun::next`] failed with `context`; `attempt_output` is what
    /// the phase printed since its current attempt began (matched against a RETRY regex).
    pub fn failed(&mut self, context: PhaseContext, attempt_output: &str) {
        self.cursor = match self.cursor {
            Cursor::Commands(_) if self.may_retry(attempt_output) => {
                self.retries_left -= 1;
                self.attempt += 1;
                Cursor::Commands(0)
            }
            Cursor::Commands(_) => {
                self.failure.get_or_insert(context);
                Cursor::Finally(0)
            }
            Cursor::Finally(_) | Cursor::Done => {
                self.failure.get_or_insert(context);
                Cursor::Done
            }
        };
        self.settle();
    }

    /// Whether a command of this phase has failed (and was not retried), for
    /// `CODEBUILD_BUILD_SUCCEEDING` inside the phase's `finally`.
    pub fn has_failed(&self) -> bool {
        self.failure.is_some()
    }

    fn may_retry(&self, output: &str) -> bool {
        self.retries_left > 0 && self.pattern.as_ref().is_none_or(|re| re.is_match(output))
    }

    fn settle(&mut self) {
        if matches!(self.cursor, Cursor::Commands(i) if i >= self.commands) {
            self.cursor = Cursor::Finally(0);
        }
        if matches!(self.cursor, Cursor::Finally(i) if i >= self.finally) {
            self.cursor = Cursor::Done;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::Status;
    use crate::buildspec::Command;
    use crate::diagnostic::Position;
    use test_case::test_case;

    fn phase(commands: usize, finally: usize, on_failure: Option<OnFailure>) -> Phase {
        let cmd = |i: usize| Command { text: format!("c{i}"), position: Position::new(1, 1) };
        Phase {
            commands: (0..commands).map(cmd).collect(),
            finally: (0..finally).map(cmd).collect(),
            on_failure,
            ..Phase::default()
        }
    }

    /// Runs a phase where the listed steps fail (matching by the step and attempt) and returns
    /// the steps taken and the end status.
    fn drive(phase: &Phase, fails: &[Step], output: &str) -> (Vec<Step>, Status) {
        let mut run = PhaseRun::new(phase);
        let mut steps = Vec::new();
        for _ in 0..1000 {
            let step = run.next();
            if let Step::Done(end) = step {
                return (steps, end.status);
            }
            steps.push(step.clone());
            if fails.contains(&step) {
                run.failed(PhaseContext::command_failed("x", 1), output);
            } else {
                run.succeeded();
            }
        }
        panic!("phase never ended");
    }

    fn c(index: usize, attempt: u32) -> Step {
        Step::Command { index, attempt }
    }

    #[test]
    fn empty_phase_succeeds() {
        assert_eq!(drive(&phase(0, 0, None), &[], ""), (vec![], Status::Succeeded));
    }

    #[test]
    fn t02_t08_failure_skips_rest_and_runs_finally() {
        let (steps, status) = drive(&phase(3, 1, None), &[c(1, 1)], "");
        assert_eq!(steps, [c(0, 1), c(1, 1), Step::Finally(0)]);
        assert_eq!(status, Status::Failed);
    }

    #[test]
    fn t07_failing_finally_fails_the_phase() {
        let (steps, status) = drive(&phase(1, 2, None), &[Step::Finally(0)], "");
        assert_eq!(steps, [c(0, 1), Step::Finally(0)]);
        assert_eq!(status, Status::Failed);
    }

    #[test]
    fn first_failure_gives_the_context() {
        let mut run = PhaseRun::new(&phase(1, 1, None));
        run.failed(PhaseContext::command_failed("first", 2), "");
        run.failed(PhaseContext::command_failed("second", 3), "");
        let Step::Done(end) = run.next() else { panic!("not done") };
        assert_eq!(end.context, Some(PhaseContext::command_failed("first", 2)));
    }

    #[test_case(None, 1 ; "no retry")]
    #[test_case(Some(OnFailure::Retry { count: 3, pattern: None }), 4 ; "retry three more times")]
    #[test_case(Some(OnFailure::Retry { count: 0, pattern: None }), 1 ; "retry zero")]
    #[test_case(Some(OnFailure::Retry { count: 2, pattern: Some("flaky".into()) }), 3 ; "regex matches")]
    #[test_case(Some(OnFailure::Retry { count: 2, pattern: Some("^nope$".into()) }), 1 ; "regex does not match")]
    #[test_case(Some(OnFailure::Continue), 1 ; "continue")]
    fn retries_rerun_the_whole_phase(on_failure: Option<OnFailure>, attempts: u32) {
        let p = phase(2, 1, on_failure);
        let fails: Vec<Step> = (1..=10).map(|a| c(1, a)).collect();
        let (steps, status) = drive(&p, &fails, "a flaky network\n");
        assert_eq!(status, Status::Failed);
        let expected: Vec<Step> =
            (1..=attempts).flat_map(|a| [c(0, a), c(1, a)]).chain([Step::Finally(0)]).collect();
        assert_eq!(steps, expected);
    }

    #[test]
    fn retry_that_succeeds_clears_the_failure() {
        let p = phase(2, 1, Some(OnFailure::Retry { count: 3, pattern: None }));
        let (steps, status) = drive(&p, &[c(1, 1)], "");
        assert_eq!(steps, [c(0, 1), c(1, 1), c(0, 2), c(1, 2), Step::Finally(0)]);
        assert_eq!(status, Status::Succeeded);
    }

    #[test]
    fn failing_finally_is_not_retried() {
        let p = phase(1, 1, Some(OnFailure::Retry { count: 3, pattern: None }));
        let (steps, status) = drive(&p, &[Step::Finally(0)], "");
        assert_eq!(steps, [c(0, 1), Step::Finally(0)]);
        assert_eq!(status, Status::Failed);
    }
}
