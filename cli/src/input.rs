//! Reading a command's input files with a size limit, so that no input (`/dev/zero`, a
//! runaway file, a directory) is buffered past what kiln accepts for it.

use std::path::Path;

use kiln_core::limits::{Limit, LimitError, read_limited};

/// The bytes of the file at `path`, at most `limit.bytes` of them.
///
/// # Errors
/// [`LimitError`] when the file cannot be opened or read, or is larger than the limit.
pub fn read_file(path: &Path, limit: Limit) -> Result<Vec<u8>, LimitError> {
    let file = std::fs::File::open(path).map_err(|source| LimitError::Read { limit, source })?;
    read_limited(file, limit)
}

/// What went wrong reading an input, in words for `cannot read FILE: …`: the limit that was
/// exceeded (`the buildspec is larger than 4 MiB`), or the reader's own error.
pub fn reason(error: &LimitError) -> String {
    match error {
        LimitError::TooLarge { .. } => error.to_string(),
        LimitError::Read { source, .. } => source.to_string(),
    }
}
