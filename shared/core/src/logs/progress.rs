//! A build's progress as its log tells it: the agent's phase markers (`Entering phase BUILD`,
//! `Phase complete: BUILD State: SUCCEEDED`, spec §2.3) read back from its lines, and the
//! description a pending commit status shows while the build runs (`BUILD running · 2 of 4
//! phases`: the phase the build is in, and how many of the four command phases — INSTALL,
//! PRE_BUILD, BUILD, POST_BUILD — have completed).

use serde::{Deserialize, Serialize};

use crate::build::{PhaseType, Status};

/// The command phases the description counts.
const COMMAND_PHASES: [PhaseType; 4] =
    [PhaseType::Install, PhaseType::PreBuild, PhaseType::Build, PhaseType::PostBuild];

/// A phase marker in a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseMarker {
    /// `Entering phase X`.
    Entering(PhaseType),
    /// `Phase complete: X State: Y`.
    Complete(PhaseType, Status),
}

/// The phase marker `line` holds, if it is one of the agent's (`[Container] DATE TIME MESSAGE`).
pub fn phase_marker(line: &str) -> Option<PhaseMarker> {
    let rest = line.trim_end().strip_prefix("[Container] ")?;
    let mut parts = rest.splitn(3, ' ');
    let (_date, _time, message) = (parts.next()?, parts.next()?, parts.next()?);
    if let Some(name) = message.strip_prefix("Entering phase ") {
        return phase_type(name.trim()).map(PhaseMarker::Entering);
    }
    let rest = message.strip_prefix("Phase complete: ")?;
    let (name, state) = rest.split_once(" State: ")?;
    let status = [
        Status::Succeeded,
        Status::Failed,
        Status::Fault,
        Status::TimedOut,
        Status::Stopped,
        Status::InProgress,
    ]
    .into_iter()
    .find(|s| s.name() == state.trim())?;
    Some(PhaseMarker::Complete(phase_type(name.trim())?, status))
}

fn phase_type(name: &str) -> Option<PhaseType> {
    PhaseType::ALL.into_iter().find(|p| p.name() == name)
}

/// How far a build has got, from the markers seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The phase entered last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PhaseType>,
    /// The command phases completed, one bit each in [`COMMAND_PHASES`] order.
    #[serde(default)]
    pub completed: u8,
}

impl Progress {
    /// Takes `line` into account; returns whether the progress changed.
    pub fn observe(&mut self, line: &str) -> bool {
        let before = *self;
        match phase_marker(line) {
            Some(PhaseMarker::Entering(phase)) => self.phase = Some(phase),
            Some(PhaseMarker::Complete(phase, _)) => {
                if let Some(i) = COMMAND_PHASES.iter().position(|p| *p == phase) {
                    self.completed |= 1 << i;
                }
            }
            None => {}
        }
        *self != before
    }

    /// How many of the four command phases have completed.
    pub fn completed_count(&self) -> u32 {
        (self.completed & 0b1111).count_ones()
    }

    /// The pending status's description: `BUILD running · 2 of 4 phases`; `None` before the
    /// first phase.
    pub fn describe(&self) -> Option<String> {
        let phase = self.phase?;
        Some(format!(
            "{phase} running · {} of {} phases",
            self.completed_count(),
            COMMAND_PHASES.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
[Container] 2026/11/21 04:13:27.100000 Running command echo hi
[Container] 2026/11/21 04:13:27.123456 Entering phase INSTALL
[Container] 2026/11/21 04:13:27.123456 Phase complete: INSTALL State: SUCCEEDED
[Container] 2026/11/21 04:13:27.123456 Phase context status code:  Message:
[Container] 2026/11/21 04:13:27.123456 Entering phase PRE_BUILD
[Container] 2026/11/21 04:13:27.123456 Phase complete: PRE_BUILD State: SUCCEEDED
[Container] 2026/11/21 04:13:28.000000 Entering phase BUILD
hello Entering phase POST_BUILD
";

    #[test]
    fn markers_are_read_from_the_agents_lines_only() {
        assert_eq!(
            phase_marker("[Container] 2026/11/21 04:13:27.123456 Entering phase BUILD"),
            Some(PhaseMarker::Entering(PhaseType::Build))
        );
        assert_eq!(
            phase_marker(
                "[Container] 2026/11/21 04:13:27.123456 Phase complete: BUILD State: FAILED"
            ),
            Some(PhaseMarker::Complete(PhaseType::Build, Status::Failed))
        );
        assert_eq!(phase_marker("Entering phase BUILD"), None);
        assert_eq!(phase_marker("[Container] 2026/11/21 04:13:27 Entering phase BIULD"), None);
    }

    #[test]
    fn progress_reads_as_the_status_says() {
        let mut p = Progress::default();
        assert_eq!(p.describe(), None);
        let changed: Vec<bool> = LOG.lines().map(|l| p.observe(l)).collect();
        assert_eq!(changed, [false, true, true, false, true, true, true, false]);
        assert_eq!(p.describe().as_deref(), Some("BUILD running · 2 of 4 phases"));
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(serde_json::from_str::<Progress>(&json).expect("back"), p);
    }
}
