//! A build's log archive as the relay keeps it: the log's text (`builds/<project>/<n>/build.log`
//! in the state bucket) and, stored with it, the relay's [`RelayMark`]: which batches it has
//! appended, how far the build has got, and when its pending status last said so.
//!
//! Readings [INF]:
//! - CloudWatch Logs invokes the relay asynchronously, and Lambda retries a failed invocation
//!   with the same payload, so a batch may arrive twice. A batch is known by the id of its
//!   first event (CloudWatch's ids are unique in a stream); the mark remembers the last
//!   [`REMEMBERED_BATCHES`] and a batch seen before is not appended again. Batches of one
//!   stream that arrive out of order (two invocations at once) are both appended, in the order
//!   they were written, so no line is ever lost, at the price of order in that rare case.
//! - Masking re-applied: the relay knows no value of a build's secrets (only the agent reads
//!   them, and it masks its output before CloudWatch sees it, so the lines arrive masked).
//!   What the relay can still do is mask what it knows: kiln's own credentials (the GitHub
//!   token or App key it posts statuses with), which no build holds but which must never reach
//!   an archive that pages serve. `***` from the agent stays as it is.

use serde::{Deserialize, Serialize};

use super::cloudwatch::LogsEvent;
use super::mask::{Masker, mask_all};
use super::progress::Progress;

/// How many appended batches a mark remembers (their first event ids fit the 2 KB of S3 user
/// metadata with room to spare).
pub const REMEMBERED_BATCHES: usize = 12;

/// What the relay remembers of a build's archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayMark {
    /// The first event id of each of the last batches appended, oldest first.
    #[serde(default)]
    pub batches: Vec<String>,
    /// How far the build has got, from the markers appended so far.
    #[serde(default)]
    pub progress: Progress,
    /// When the pending status last got a progress description, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_posted_ms: Option<i64>,
    /// That description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_posted: Option<String>,
}

impl RelayMark {
    /// Whether the batch whose first event is `first_id` was appended already.
    pub fn has_batch(&self, first_id: &str) -> bool {
        self.batches.iter().any(|b| b == first_id)
    }

    /// Remembers the batch whose first event is `first_id`, forgetting the oldest past
    /// [`REMEMBERED_BATCHES`].
    pub fn remember_batch(&mut self, first_id: &str) {
        self.batches.push(first_id.to_owned());
        let excess = self.batches.len().saturating_sub(REMEMBERED_BATCHES);
        self.batches.drain(..excess);
    }

    /// The mark as compact JSON (how adapters store it).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// A mark read back from [`RelayMark::to_json`]'s text; an unreadable one reads as new
    /// (the worst that can follow is a batch appended twice or a progress posted early).
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }
}

/// The archive's lines for `events`: each message masked by `masker`, ending with a newline.
pub fn archive_lines(events: &[LogsEvent], masker: &Masker) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        let line = event.message.trim_end_matches(['\n', '\r']);
        if masker.is_empty() {
            out.extend_from_slice(line.as_bytes());
        } else {
            out.extend_from_slice(mask_all(masker, line).as_bytes());
        }
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, message: &str) -> LogsEvent {
        LogsEvent { id: id.into(), timestamp: 0, message: message.into() }
    }

    #[test]
    fn batches_are_remembered_within_bounds() {
        let mut m = RelayMark::default();
        for i in 0..20 {
            m.remember_batch(&format!("{i:056}"));
        }
        assert_eq!(m.batches.len(), REMEMBERED_BATCHES);
        assert!(m.has_batch(&format!("{:056}", 19)));
        assert!(!m.has_batch(&format!("{:056}", 2)));
        assert!(m.to_json().len() < 1000, "{}", m.to_json().len());
        assert_eq!(RelayMark::from_json(&m.to_json()), m);
        assert_eq!(RelayMark::from_json("not json"), RelayMark::default());
    }

    #[test]
    fn lines_are_masked_again_and_end_with_newlines() {
        let masker = Masker::new(["ghp_kilnsowntoken"]);
        let lines = archive_lines(
            &[event("1", "token ghp_kilnsowntoken leaked\n"), event("2", "value=***")],
            &masker,
        );
        assert_eq!(String::from_utf8_lossy(&lines), "token *** leaked\nvalue=***\n");
        let plain = archive_lines(&[event("1", "a")], &Masker::new(Vec::<String>::new()));
        assert_eq!(plain, b"a\n");
    }
}
