//! Build log lines in CodeBuild's format, phase markers and secret masking.

mod line;
mod mask;
mod prefixes;

pub use line::{LogMessage, format_line};
pub use mask::{Masker, mask_all};
