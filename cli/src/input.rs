//! Reading a command's input files with a size limit, so that no input (`/dev/zero`, a
//! runaway file, a directory) is buffered past what kiln accepts for it.

use std::io::Read;
use std::path::Path;

use kiln_core::limits::{Limit, LimitError, read_limited};

/// Why an input could not be read: `cannot read FILE: REASON` once its cause is shown
/// ([`crate::print::chain`]).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The input is larger than its limit.
    #[error("cannot read {name}")]
    TooLarge {
        /// The input as the user named it (`<stdin>` for standard input).
        name: String,
        /// The limit that was exceeded.
        #[source]
        source: LimitError,
    },
    /// The input cannot be opened or read (absent, a directory, no permission).
    #[error("cannot read {name}")]
    Unreadable {
        /// The input as the user named it.
        name: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The input is not UTF-8 text.
    #[error("{name} is not UTF-8 text")]
    NotUtf8 {
        /// The input as the user named it.
        name: String,
        /// Where the first byte that is not UTF-8 is.
        #[source]
        source: std::string::FromUtf8Error,
    },
}

impl InputError {
    fn of(name: String, error: LimitError) -> Self {
        match error {
            e @ LimitError::TooLarge { .. } => Self::TooLarge { name, source: e },
            LimitError::Read { source, .. } => Self::Unreadable { name, source },
        }
    }

    /// Whether the input does not exist (rather than being unreadable otherwise).
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Unreadable { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The bytes of the file at `path`, at most `limit.bytes` of them.
///
/// # Errors
/// [`InputError`] when the file cannot be opened or read, or is larger than the limit.
pub fn read_file(path: &Path, limit: Limit) -> Result<Vec<u8>, InputError> {
    let name = || path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|source| InputError::Unreadable { name: name(), source })?;
    read_limited(file, limit).map_err(|e| InputError::of(name(), e))
}

/// The bytes of `reader` (standard input), named `name` in errors, at most `limit.bytes`.
///
/// # Errors
/// As [`read_file`].
pub fn read_from(name: &str, reader: impl Read, limit: Limit) -> Result<Vec<u8>, InputError> {
    read_limited(reader, limit).map_err(|e| InputError::of(name.to_owned(), e))
}

/// The text of the file at `path`, at most `limit.bytes`.
///
/// # Errors
/// As [`read_file`], and [`InputError::NotUtf8`].
pub fn read_text(path: &Path, limit: Limit) -> Result<String, InputError> {
    String::from_utf8(read_file(path, limit)?)
        .map_err(|source| InputError::NotUtf8 { name: path.display().to_string(), source })
}
