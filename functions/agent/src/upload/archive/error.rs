//! Why a cache archive could not be written or read.

use std::io;
use std::path::PathBuf;

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading a file to archive failed.
    #[error("read {path}")]
    Source {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing the archive failed.
    #[error("write the cache archive")]
    Write(#[source] io::Error),
    /// Reading or unpacking the archive failed.
    #[error("read the cache archive")]
    Read(#[source] io::Error),
    /// Creating a cache path's root directory failed.
    #[error("create {path}")]
    Root {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}
