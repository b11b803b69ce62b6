//! A streaming, parallel ZIP writer for ZIP-packaged artifacts.
//!
//! Entries are prepared on a small pool of threads (`std::thread::scope`): each reads its
//! file, computes the CRC and deflates it in memory, while the writer thread appends the
//! finished entries to the output strictly in order. Run-ahead is bounded by an entry window
//! and a byte budget, so memory stays small whatever the archive's size. Files larger than
//! [`LARGE_FILE`] are streamed by the writer itself with a data descriptor. A file is stored
//! uncompressed when its extension says it is already compressed, when a sample of it does
//! not shrink, or when deflating does not make it smaller; deflate runs at [`DEFAULT_LEVEL`].
//! ZIP64 records are written when sizes, offsets or the entry count need them. Symbolic links
//! (kept with `enable-symlinks`) are stored as links, Unix mode `0120777`, the target as
//! their data.
//!
//! Last line of defence against zip-slip: an entry name that is empty, starts with `/` or
//! `\\`, or has a `..` segment (split on `/` and on `\\`, as Windows tools read names) is
//! refused with [`ZipError::UnsafeName`] before anything is written for it; the selection
//! never produces one. Files are opened without following a link and must be regular files.
//!
//! The SHA-256 and MD5 of the archive are computed while it is written.

mod entry;
mod error;
mod records;
mod writer;

pub use entry::LARGE_FILE;
pub use error::ZipError;
pub use writer::{DEFAULT_LEVEL, ZipSummary, write_zip, write_zip_level};

#[cfg(test)]
mod tests;
