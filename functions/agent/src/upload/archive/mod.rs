//! Cache archives: tar + zstd, written and read as streams.
//!
//! Entry names say where a path is restored (see `kiln_core::cache::CachePaths`):
//! `s/<path>` relative to the source directory, `a/<path>` absolute (without its leading
//! `/`). Regular files and symbolic links are archived (the `.bin` links of `node_modules`
//! stay links); a restore writes them back only under the current buildspec's cache paths.

mod error;
mod pack;
mod unpack;

pub use error::ArchiveError;
pub use pack::{ArchiveEntry, pack};
pub use unpack::{MAX_SKIPS_KEPT, Restored, Skip, SkipReason, unpack};
