//! Where the relay keeps builds' logs: the log archive.

use super::PortFuture;
use crate::build::BuildRef;
use crate::logs::RelayMark;

/// A build's archived log as read: its text, the relay's mark, and the version a write must
/// replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedLog {
    /// The log so far.
    pub text: Vec<u8>,
    /// What the relay remembers of it.
    pub mark: RelayMark,
    /// The stored version (an S3 ETag, a local revision), for [`LogArchive::write`].
    pub version: String,
}

/// Builds' logs as the relay appends to them: `builds/<project>/<n>/build.log` in the state
/// bucket, with the relay's mark stored alongside in the same write (S3 user metadata).
///
/// Contract:
/// - [`LogArchive::read`] of a build with no archive yet is `None`, not an error;
/// - [`LogArchive::write`] is a compare-and-swap: with `replacing` `None` it writes only when
///   no archive exists yet, with `Some(version)` only when the stored one still has that
///   version; otherwise it fails with `Conflict` and writes nothing (the caller re-reads);
///   text and mark are replaced together, atomically;
/// - `Throttled` and `Unavailable` may be retried; the others may not.
pub trait LogArchive: Send + Sync {
    /// The archive of `build`, if there is one.
    fn read<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Option<ArchivedLog>>;

    /// Replaces the archive of `build` with `text` and `mark` if its version is `replacing`.
    fn write<'a>(
        &'a self,
        build: &'a BuildRef,
        text: Vec<u8>,
        mark: &'a RelayMark,
        replacing: Option<&'a str>,
    ) -> PortFuture<'a, ()>;
}
