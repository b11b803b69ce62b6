//! Build records, build numbers, idempotency keys and build summaries.

use super::PortFuture;
use crate::build::{Build, BuildRef, BuildSummary};

/// What [`BuildStore::create`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The record was created as given.
    New(Build),
    /// A record already had the key: this one, unchanged (a redelivery, or a concurrent
    /// create that won).
    Existing(Build),
}

impl Created {
    /// The record that holds the key, new or not.
    pub fn build(&self) -> &Build {
        match self {
            Self::New(b) | Self::Existing(b) => b,
        }
    }
}

/// Where builds are kept: numbers, records, keys, summaries. The S3 state bucket in the cloud,
/// the data directory locally, with the same layout (see [`crate::build::layout`]).
///
/// Contract:
/// - [`BuildStore::claim_number`] never returns the same number twice for a project, even to
///   concurrent callers; a claimed number whose build is never created is a gap, never reused;
/// - [`BuildStore::create`] is idempotent on [`Build::idempotency_key`]: the first create of a
///   key writes the record (with revision 1); any later create with that key writes nothing
///   and returns the first record as [`Created::Existing`];
/// - [`BuildStore::update`] is a compare-and-swap: it writes only when the stored record's
///   revision equals the given one, stores it with revision + 1 and returns what it stored;
///   otherwise it fails with `Conflict` and the caller re-reads and decides again;
/// - reads of a record that does not exist fail with `NotFound`;
/// - [`BuildStore::list_open`] returns every build that is QUEUED or IN_PROGRESS;
/// - a summary is written once by the agent's runner and read by the finalizer; a second put
///   replaces it;
/// - `Throttled` and `Unavailable` may be retried; the others may not.
pub trait BuildStore: Send + Sync {
    /// Claims the next build number of `project`: 1 for its first build.
    fn claim_number<'a>(&'a self, project: &'a str) -> PortFuture<'a, u64>;

    /// Creates `build` under its idempotency key, unless a record already has that key.
    fn create<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Created>;

    /// The record created under `key`, if any.
    fn find<'a>(&'a self, key: &'a str) -> PortFuture<'a, Option<Build>>;

    /// The record of `build`.
    fn read<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Build>;

    /// Replaces the record if its stored revision is `build.revision`.
    fn update<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Build>;

    /// Every build that has not ended.
    fn list_open<'a>(&'a self) -> PortFuture<'a, Vec<Build>>;

    /// The newest builds first, of `project` or of every project, at most `limit`.
    fn list_recent<'a>(
        &'a self,
        project: Option<&'a str>,
        limit: usize,
    ) -> PortFuture<'a, Vec<Build>>;

    /// Stores what the agent reported about `build`.
    fn put_summary<'a>(
        &'a self,
        build: &'a BuildRef,
        summary: &'a BuildSummary,
    ) -> PortFuture<'a, ()>;

    /// What the agent reported about `build`, if it reported.
    fn get_summary<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Option<BuildSummary>>;
}
