//! Traits for everything outside the domain. Each adapter crate implements them: `kiln-local`
//! on one machine, `kiln-aws` and `kiln-github` in the cloud.
//!
//! Every port's doc comment is its contract: call order, idempotency, and which error kinds
//! mean "retry".

use std::fmt;

/// What went wrong at a port, in terms the core can decide retries on without knowing the
/// technology behind the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortErrorKind {
    /// The thing asked for does not exist. Not retryable.
    NotFound,
    /// A conditional write lost a race (the object exists, or changed). Not retryable as is.
    Conflict,
    /// The backend asked us to slow down. Retryable after a pause.
    Throttled,
    /// The backend could not be reached or failed transiently. Retryable.
    Unavailable,
    /// Anything else: bad input, denied access. Not retryable.
    Permanent,
}

impl PortErrorKind {
    /// Whether trying the same call again later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable)
    }
}

/// An error from a port: its kind, what was being done, and the underlying cause.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {kind:?}")]
pub struct PortError {
    /// What the core may do about it.
    pub kind: PortErrorKind,
    /// What the port was doing, as a lowercase fragment ("put object artifacts/a.zip").
    pub operation: String,
    /// The adapter's own error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl PortError {
    /// A new error of `kind` while doing `operation`.
    pub fn new(kind: PortErrorKind, operation: impl fmt::Display) -> Self {
        Self { kind, operation: operation.to_string(), source: None }
    }

    /// The same error with its underlying cause attached.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

/// A boxed future returned by port methods, so ports can be used as trait objects.
pub type PortFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, PortError>> + Send + 'a>>;

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

/// Secret values: SSM parameters (`env.parameter-store`, project `PARAMETER_STORE` variables)
/// and Secrets Manager secrets (`env.secrets-manager`, project `SECRETS_MANAGER` variables).
///
/// Contract:
/// - both calls are reads with no side effect, safe to repeat;
/// - a missing parameter or secret fails with [`PortErrorKind::NotFound`] and an `operation`
///   that names it (never its value);
/// - `get_secret` returns the whole secret string of the version asked for (`AWSCURRENT` when
///   neither stage nor id is given); picking a JSON key out of it is the caller's job;
/// - values never reach a log, a `Debug` output or an error message.
pub trait SecretStore: Send + Sync {
    /// The value of the SSM parameter `name` (decrypted).
    fn get_parameter<'a>(&'a self, name: &'a str) -> PortFuture<'a, String>;

    /// The secret string of `secret_id` at `version_stage` or `version_id`.
    fn get_secret<'a>(
        &'a self,
        secret_id: &'a str,
        version_stage: Option<&'a str>,
        version_id: Option<&'a str>,
    ) -> PortFuture<'a, String>;
}

/// What the source host knows of a pull request beyond its webhook payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequestDetails {
    /// Paths of the files the pull request changes (GitHub's "files" list).
    pub changed_files: Vec<String>,
    /// The message of the pull request's head commit.
    pub head_commit_message: Option<String>,
}

/// The Git host the repositories live on (GitHub): what intake cannot read from a payload.
///
/// Contract:
/// - `pull_request_details` describes pull request `number` of `repo` as of `head_sha`; an
///   adapter that can only read the current head still answers, and the core accepts the
///   race (a later push sends its own delivery);
/// - it is read-only and may be called any number of times; intake calls it at most once per
///   delivery, and only when a filter group needs `FILE_PATH` or `COMMIT_MESSAGE` of a pull
///   request;
/// - `NotFound` means the pull request or repository is gone (no build); `Throttled` and
///   `Unavailable` may be retried; the others may not.
pub trait SourceHost: Send + Sync {
    /// The changed files and head commit message of a pull request.
    fn pull_request_details<'a>(
        &'a self,
        repo: &'a crate::webhook::RepoFullName,
        number: u64,
        head_sha: &'a crate::webhook::CommitSha,
    ) -> PortFuture<'a, PullRequestDetails>;
}

/// An object store for builds that have none configured: every call fails as unavailable.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnavailableObjectStore;

impl UnavailableObjectStore {
    fn fail<'a, T: Send + 'a>(what: &str) -> PortFuture<'a, T> {
        let error = PortError::new(
            PortErrorKind::Unavailable,
            format!("{what}: no object store is configured"),
        );
        Box::pin(async move { Err(error) })
    }
}

impl ObjectStore for UnavailableObjectStore {
    fn put_file<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a std::path::Path,
        _: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Self::fail("put object")
    }
    fn put_bytes<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Vec<u8>,
        _: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Self::fail("put object")
    }
    fn get_file<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a std::path::Path,
    ) -> PortFuture<'a, ObjectInfo> {
        Self::fail("get object")
    }
    fn head<'a>(&'a self, _: &'a str, _: &'a str) -> PortFuture<'a, ObjectInfo> {
        Self::fail("head object")
    }
    fn list<'a>(&'a self, _: &'a str, _: &'a str) -> PortFuture<'a, Vec<ObjectInfo>> {
        Self::fail("list objects")
    }
}
