//! kiln's ports on one machine: objects and state as files on disk.
