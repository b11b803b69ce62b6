//! Objects in buckets: artifacts, reports, cache archives, logs.

use super::PortFuture;

/// What kiln knows of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written, in milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
    /// User metadata, without the `x-amz-meta-` prefix (`codebuild-buildarn` → build ARN).
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// How to write an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// User metadata, without the `x-amz-meta-` prefix.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Write only when no object has the key yet (S3 `If-None-Match: *`); otherwise fail with
    /// [`PortErrorKind::Conflict`] and leave the existing object as it is.
    pub if_absent: bool,
}

/// Objects in buckets: artifacts, reports, cache archives, logs.
///
/// Contract:
/// - keys are S3 keys (`/`-separated, no leading `/`); an adapter stores exactly the objects
///   S3 would hold for the same calls, so local and cloud layouts match key for key;
/// - a put replaces the whole object atomically: readers see the old or the new object, never
///   a part; with [`PutOptions::if_absent`] an existing object wins and the put fails with
///   `Conflict`;
/// - `get_file` of a missing key fails with `NotFound` and leaves no file at `dest`;
/// - `list` returns every object whose key starts with `prefix`, in key order;
/// - `Throttled` and `Unavailable` errors may be retried; the others may not.
pub trait ObjectStore: Send + Sync {
    /// Writes the file at `path` as `bucket/key`.
    fn put_file<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        path: &'a std::path::Path,
        options: &'a PutOptions,
    ) -> PortFuture<'a, ()>;

    /// Writes `bytes` as `bucket/key`.
    fn put_bytes<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        bytes: Vec<u8>,
        options: &'a PutOptions,
    ) -> PortFuture<'a, ()>;

    /// Reads `bucket/key` into a new file at `dest`.
    fn get_file<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        dest: &'a std::path::Path,
    ) -> PortFuture<'a, ObjectInfo>;

    /// Describes `bucket/key` without reading it.
    fn head<'a>(&'a self, bucket: &'a str, key: &'a str) -> PortFuture<'a, ObjectInfo>;

    /// Every object of `bucket` whose key starts with `prefix`, in key order.
    fn list<'a>(&'a self, bucket: &'a str, prefix: &'a str) -> PortFuture<'a, Vec<ObjectInfo>>;
}
