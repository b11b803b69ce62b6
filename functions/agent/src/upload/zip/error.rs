//! Why a ZIP could not be written.

use std::io;
use std::path::PathBuf;

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// Reading an input file failed.
    #[error("read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing the archive failed.
    #[error("write the archive")]
    Write(#[source] io::Error),
    /// An entry name is absolute or climbs with `..` (zip-slip); nothing was written for it.
    #[error("store the entry name {name:?}, which is absolute or has a `..` segment")]
    UnsafeName {
        /// The name.
        name: String,
    },
}
