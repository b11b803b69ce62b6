//! kiln's ports on one machine: objects and state as files on disk.

pub mod numbers;
pub mod secrets;

pub use numbers::claim_build_number;
pub use secrets::FileSecretStore;
