//! The build record: ids and numbers, the phase state machine and the build's environment.

mod identity;

pub use identity::BuildIdentity;
