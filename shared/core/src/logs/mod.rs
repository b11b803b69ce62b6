//! Build log lines in CodeBuild's format, phase markers and progress, secret masking,
//! CloudWatch Logs subscription payloads and the relay's log archive.

pub mod archive;
pub mod cloudwatch;
mod line;
mod mask;
mod prefixes;
pub mod progress;

pub use archive::{RelayMark, archive_lines};
pub use cloudwatch::{LogsEnvelope, LogsEvent, LogsMessage, MessageType};
pub use line::{LogMessage, format_line};
pub use mask::{Masker, mask_all};
pub use progress::{PhaseMarker, Progress, phase_marker};
