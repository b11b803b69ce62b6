//! kiln's build agent: runs one build description and hands back its summary.
//!
//! [`run`] is the whole agent: the `kiln-agent` binary in a Fargate task or a child process,
//! and `kiln run` in this process, all call it with the description a runner handed them and
//! the ports of where they run.

pub mod build;
pub mod error_text;
pub mod output;
pub mod process;
pub mod shell;
pub mod signals;
pub mod source;
pub mod tools;
pub mod upload;

pub use build::{Agent, AgentPorts, run};
