//! Build caches: key evaluation, fallback-key selection and entry policy.

mod policy;

pub use policy::{CacheError, CacheLayout, CacheSettings, ENTRY_SUFFIX, pick_newest};
