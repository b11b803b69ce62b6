//! Build caches: key evaluation, fallback-key selection, entry policy, and where cache paths
//! are saved from and restored to.

mod paths;
mod policy;

pub use paths::{CachePath, CachePaths, CacheRoot};
pub use policy::{CacheError, CacheLayout, CacheSettings, ENTRY_SUFFIX, pick_newest};
