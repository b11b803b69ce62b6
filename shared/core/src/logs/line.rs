//! The agent's own log lines: `[Container] YYYY/MM/DD HH:MM:SS.ffffff <message>` in UTC, with
//! CodeBuild's exact wording for phase and command markers (spec §2.3).

use std::fmt;

use time::OffsetDateTime;
use time::macros::format_description;

use crate::build::{PhaseContext, PhaseType, Status};

/// One of the agent's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogMessage<'a> {
    /// `Entering phase X`.
    EnteringPhase(PhaseType),
    /// `Running command X`.
    RunningCommand(&'a str),
    /// `Command did not exit successfully X exit status N`.
    CommandFailed(&'a str, i32),
    /// `Phase complete: X State: Y`.
    PhaseComplete(PhaseType, Status),
    /// `Phase context status code: C Message: M`.
    PhaseContext(&'a PhaseContext),
    /// Anything else.
    Text(&'a str),
}

impl fmt::Display for LogMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EnteringPhase(phase) => write!(f, "Entering phase {phase}"),
            Self::RunningCommand(command) => write!(f, "Running command {command}"),
            Self::CommandFailed(command, status) => {
                write!(f, "Command did not exit successfully {command} exit status {status}")
            }
            Self::PhaseComplete(phase, status) => {
                write!(f, "Phase complete: {phase} State: {status}")
            }
            Self::PhaseContext(context) => {
                write!(
                    f,
                    "Phase context status code: {} Message: {}",
                    context.status_code, context.message
                )
            }
            Self::Text(text) => f.write_str(text),
        }
    }
}

/// A whole log line for `message` at `at` (converted to UTC), ending with a newline.
pub fn format_line(at: OffsetDateTime, message: &dyn fmt::Display) -> String {
    let format =
        format_description!("[year]/[month]/[day] [hour]:[minute]:[second].[subsecond digits:6]");
    let stamp = at
        .to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_else(|_| String::from("0000/00/00 00:00:00.000000"));
    format!("[Container] {stamp} {message}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn lines_match_codebuild() {
        let at = datetime!(2026-11-21 04:13:27.123456789 +01:00);
        let context = PhaseContext::command_failed("exit 3", 3);
        let lines: Vec<String> = [
            LogMessage::EnteringPhase(PhaseType::Build),
            LogMessage::RunningCommand("echo hi"),
            LogMessage::CommandFailed("exit 3", 3),
            LogMessage::PhaseComplete(PhaseType::Build, Status::Failed),
            LogMessage::PhaseContext(&context),
        ]
        .iter()
        .map(|m| format_line(at, m))
        .collect();
        assert_eq!(
            lines.concat(),
            "[Container] 2026/11/21 03:13:27.123456 Entering phase BUILD\n\
             [Container] 2026/11/21 03:13:27.123456 Running command echo hi\n\
             [Container] 2026/11/21 03:13:27.123456 Command did not exit successfully exit 3 exit status 3\n\
             [Container] 2026/11/21 03:13:27.123456 Phase complete: BUILD State: FAILED\n\
             [Container] 2026/11/21 03:13:27.123456 Phase context status code: COMMAND_EXECUTION_ERROR \
             Message: Error while executing command: exit 3. Reason: exit status 3\n"
        );
    }
}
