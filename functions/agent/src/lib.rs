//! kiln's build agent: runs one build from a build description and writes its summary.

pub mod build;
pub mod description;
pub mod error_text;
pub mod local;
pub mod output;
pub mod process;
pub mod shell;
pub mod signals;
pub mod source;
pub mod tools;
pub mod upload;
