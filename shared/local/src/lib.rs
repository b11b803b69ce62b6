//! kiln's ports on one machine: objects and state as files on disk.

pub mod numbers;
pub mod object_store;
pub mod secrets;

pub use numbers::claim_build_number;
pub use object_store::FsObjectStore;
pub use secrets::FileSecretStore;
