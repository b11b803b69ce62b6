//! Which cache the project uses and where its entries live in the bucket.
//!
//! Entry keys (kiln's own layout; CodeBuild does not document its own) [INF]:
//! - scope = `cacheNamespace` when set (projects sharing bucket, prefix and namespace share
//!   keyed entries), else the project name;
//! - keyed entry: `[<prefix>/]<scope>/keys/<escaped key>.tar.zst`, where the key is escaped
//!   character by character (`%XX` for anything but `A-Za-z0-9._-`), so a fallback key's
//!   escaped form is a prefix of every escaped key it prefixes, and a listing finds them;
//! - unkeyed entry (the single per-project cache, overwritten by each build):
//!   `[<prefix>/]<scope>/default.tar.zst`.
//!
//! Project `cache.type`: `S3` uses the store; `NO_CACHE`, `LOCAL` (no host to keep it on in
//! Fargate) and an absent cache disable caching with a reason the agent logs.

use crate::ports::ObjectInfo;
use crate::project::ProjectCache;

/// The suffix of every cache entry object.
pub const ENTRY_SUFFIX: &str = ".tar.zst";

/// Why project cache settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// An enum field has a value kiln does not know.
    #[error("invalid value {value:?} for {field}")]
    InvalidValue {
        /// The field path (`cache.type`).
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// An S3 cache without a location.
    #[error("cache.location is required for an S3 cache")]
    MissingLocation,
}

/// What the project's `cache` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheSettings {
    /// No cache, and why (logged).
    Disabled(&'static str),
    /// An S3 cache.
    S3(CacheLayout),
}

impl CacheSettings {
    /// Reads the project's `cache` for project `project`.
    pub fn from_project(cache: Option<&ProjectCache>, project: &str) -> Result<Self, CacheError> {
        let Some(cache) = cache else { return Ok(Self::Disabled("the project has no cache")) };
        match cache.cache_type.as_deref() {
            None => Ok(Self::Disabled("the project has no cache")),
            Some(t) if t.eq_ignore_ascii_case("NO_CACHE") => {
                Ok(Self::Disabled("the project cache type is NO_CACHE"))
            }
            Some(t) if t.eq_ignore_ascii_case("LOCAL") => {
                Ok(Self::Disabled("LOCAL caches are not kept between kiln builds; use an S3 cache"))
            }
            Some(t) if t.eq_ignore_ascii_case("S3") => {
                let location = cache.location.as_deref().map(|l| l.trim_matches('/')).unwrap_or("");
                let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
                if bucket.is_empty() {
                    return Err(CacheError::MissingLocation);
                }
                let scope = cache
                    .cache_namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| project.to_owned());
                Ok(Self::S3(CacheLayout {
                    bucket: bucket.to_owned(),
                    prefix: prefix.trim_matches('/').to_owned(),
                    scope,
                }))
            }
            Some(t) => Err(CacheError::InvalidValue { field: "cache.type", value: t.to_owned() }),
        }
    }
}

/// Where a project's cache entries live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLayout {
    /// The bucket.
    pub bucket: String,
    /// The key prefix inside the bucket (may be empty).
    pub prefix: String,
    /// The namespace or project name.
    pub scope: String,
}

impl CacheLayout {
    fn base(&self) -> String {
        let scope = escape(&self.scope);
        if self.prefix.is_empty() { scope } else { format!("{}/{scope}", self.prefix) }
    }

    /// The object key of the entry for `key` (`None`: the unkeyed entry).
    pub fn entry_key(&self, key: Option<&str>) -> String {
        match key {
            Some(k) => format!("{}/keys/{}{ENTRY_SUFFIX}", self.base(), escape(k)),
            None => format!("{}/default{ENTRY_SUFFIX}", self.base()),
        }
    }

    /// The listing prefix that finds every keyed entry whose key starts with `fallback`.
    pub fn fallback_prefix(&self, fallback: &str) -> String {
        format!("{}/keys/{}", self.base(), escape(fallback))
    }
}

/// The newest object (by last modification, then key) among `objects` that is a cache entry.
pub fn pick_newest(objects: &[ObjectInfo]) -> Option<&ObjectInfo> {
    objects
        .iter()
        .filter(|o| o.key.ends_with(ENTRY_SUFFIX))
        .max_by(|a, b| a.last_modified_ms.cmp(&b.last_modified_ms).then_with(|| a.key.cmp(&b.key)))
}

/// Escapes `text` for use in one key segment, character by character (prefix-preserving).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    match out.strip_prefix('.') {
        Some(rest) => format!("%2E{rest}"),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(location: &str, namespace: Option<&str>) -> CacheLayout {
        let cache = ProjectCache {
            cache_type: Some("S3".into()),
            location: Some(location.into()),
            cache_namespace: namespace.map(Into::into),
            ..Default::default()
        };
        match CacheSettings::from_project(Some(&cache), "proj").expect("valid") {
            CacheSettings::S3(l) => l,
            CacheSettings::Disabled(why) => panic!("disabled: {why}"),
        }
    }

    #[test]
    fn entry_keys() {
        let l = s3("bkt/caches/", None);
        assert_eq!(l.bucket, "bkt");
        assert_eq!(l.entry_key(None), "caches/proj/default.tar.zst");
        assert_eq!(l.entry_key(Some("npm-abc/1")), "caches/proj/keys/npm-abc%2F1.tar.zst");
        assert!(l.entry_key(Some("npm-abc/1")).starts_with(&l.fallback_prefix("npm-")));
        let shared = s3("bkt", Some("team"));
        assert_eq!(shared.entry_key(Some("k")), "team/keys/k.tar.zst");
        assert_eq!(shared.entry_key(Some("..")), "team/keys/%2E..tar.zst");
    }

    #[test]
    fn disabled_and_invalid_types() {
        let c = |t: &str| ProjectCache { cache_type: Some(t.into()), ..Default::default() };
        assert!(matches!(CacheSettings::from_project(None, "p"), Ok(CacheSettings::Disabled(_))));
        assert!(matches!(
            CacheSettings::from_project(Some(&c("NO_CACHE")), "p"),
            Ok(CacheSettings::Disabled(_))
        ));
        assert!(matches!(
            CacheSettings::from_project(Some(&c("LOCAL")), "p"),
            Ok(CacheSettings::Disabled(_))
        ));
        assert_eq!(
            CacheSettings::from_project(Some(&c("S3")), "p"),
            Err(CacheError::MissingLocation)
        );
        assert_eq!(
            CacheSettings::from_project(Some(&c("DISK")), "p").map_err(|e| e.to_string()),
            Err("invalid value \"DISK\" for cache.type".to_owned())
        );
    }

    #[test]
    fn the_newest_entry_wins() {
        let o = |key: &str, t: i64| ObjectInfo {
            key: key.into(),
            size: 1,
            last_modified_ms: t,
            metadata: Default::default(),
        };
        let objects =
            [o("p/keys/k-1.tar.zst", 5), o("p/keys/k-2.tar.zst", 9), o("p/keys/k-3.tmp", 99)];
        assert_eq!(pick_newest(&objects).map(|o| o.key.as_str()), Some("p/keys/k-2.tar.zst"));
        assert_eq!(pick_newest(&[]), None);
    }

    proptest::proptest! {
        #[test]
        fn escaping_preserves_prefixes(a in ".{0,12}", b in ".{0,12}") {
            let whole = format!("{a}{b}");
            proptest::prop_assert!(escape(&whole).starts_with(&escape(&a)));
            proptest::prop_assert!(!escape(&whole).contains('/'));
        }
    }
}
