//! kiln's ports on one machine: objects and state as files on disk.

pub mod object_store;

pub use object_store::FsObjectStore;
