//! Which event a payload looks like, from its top-level keys, so that a payload given under
//! the wrong event name (`kiln resolve --event-name push` with a pull request's payload) is
//! told apart from a malformed one.
//!
//! GitHub does not name the event inside the payload; each event's payload has keys that
//! give it away (`pull_request` and `action`; `ref`, `before` and `after`). The first shape
//! of [`SHAPES`] whose keys are all present wins: the more specific shapes come first
//! (`review` and `pull_request` is a review, not a pull request).
//!
//! [INF] Only the names of events kiln reads (`push`, `pull_request`, `release`, `ping`) are
//! checked: a payload read under the wrong name gives a confusing error (`missing field ref`)
//! or, for `ping`, is silently answered. The body of any other event is never read, so it is
//! not checked either; a payload whose shape is none of these passes, and the parser decides.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;

/// Events and the top-level keys that give their payloads away, most specific first.
pub const SHAPES: &[(&str, &[&str])] = &[
    ("pull_request_review", &["review", "pull_request"]),
    ("pull_request_review_comment", &["comment", "pull_request"]),
    ("pull_request_review_thread", &["thread", "pull_request"]),
    ("pull_request", &["pull_request", "action"]),
    ("issue_comment", &["issue", "comment"]),
    ("issues", &["issue", "action"]),
    ("push", &["ref", "before", "after"]),
    ("create", &["ref", "ref_type", "master_branch"]),
    ("delete", &["ref", "ref_type", "pusher_type"]),
    ("release", &["release", "action"]),
    ("ping", &["zen", "hook_id"]),
    ("workflow_job", &["workflow_job"]),
    ("workflow_run", &["workflow_run"]),
    ("check_run", &["check_run"]),
    ("check_suite", &["check_suite"]),
    ("deployment_status", &["deployment_status"]),
    ("deployment", &["deployment", "action"]),
    ("merge_group", &["merge_group"]),
    ("repository_dispatch", &["client_payload"]),
    ("status", &["sha", "state", "context"]),
];

/// The events whose payloads kiln reads, and so whose names are checked against the shape.
const READ: [&str; 4] = ["push", "pull_request", "release", "ping"];

/// The event a payload looks like, and the keys that say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The `X-GitHub-Event` name.
    pub event: &'static str,
    /// The top-level keys that give it away.
    pub keys: &'static [&'static str],
}

/// The event whose shape `payload` (a JSON object; a leading byte order mark is skipped) has,
/// if any.
pub fn shape_of(payload: &[u8]) -> Option<Shape> {
    let payload = payload.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(payload);
    let object: BTreeMap<String, IgnoredAny> = serde_json::from_slice(payload).ok()?;
    SHAPES
        .iter()
        .find(|(_, keys)| keys.iter().all(|k| object.contains_key(*k)))
        .map(|&(event, keys)| Shape { event, keys })
}

/// A payload given under the name of another event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the payload looks like a {} delivery (it has {})", .shape.event, and_list(.shape.keys))]
pub struct ShapeMismatch {
    /// The event name given.
    pub event_name: String,
    /// What the payload looks like.
    pub shape: Shape,
}

/// Whether `payload` fits `event_name` (see the module docs for which names are checked).
///
/// # Errors
/// [`ShapeMismatch`] when the payload of a `push`, `pull_request`, `release` or `ping` has the
/// shape of another event.
pub fn check_shape(event_name: &str, payload: &[u8]) -> Result<(), ShapeMismatch> {
    if !READ.contains(&event_name) {
        return Ok(());
    }
    match shape_of(payload) {
        Some(shape) if shape.event != event_name => {
            Err(ShapeMismatch { event_name: event_name.to_owned(), shape })
        }
        _ => Ok(()),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PR: &[u8] = br#"{"action":"opened","number":1,"pull_request":{},"repository":{}}"#;

    #[test]
    fn a_pull_request_given_as_a_push_says_what_it_looks_like() {
        let err = check_shape("push", PR).expect_err("mismatch");
        assert_eq!(
            err.to_string(),
            "the payload looks like a pull_request delivery (it has pull_request and action)"
        );
        assert_eq!(check_shape("pull_request", PR), Ok(()));
        let push = br#"{"ref":"refs/heads/a","before":"0","after":"1","commits":[]}"#;
        let err = check_shape("ping", push).expect_err("mismatch");
        assert_eq!(
            err.to_string(),
            "the payload looks like a push delivery (it has ref, before and after)"
        );
    }

    #[test]
    fn unread_events_unknown_shapes_and_non_objects_pass() {
        assert_eq!(check_shape("issue_comment", PR), Ok(()));
        assert_eq!(check_shape("push", br#"{"ref": 1}"#), Ok(()));
        assert_eq!(check_shape("push", b"not json"), Ok(()));
        assert_eq!(check_shape("push", b"[1]"), Ok(()));
        let review = br#"{"action":"submitted","review":{},"pull_request":{}}"#;
        assert_eq!(shape_of(review).map(|s| s.event), Some("pull_request_review"));
        assert!(check_shape("pull_request", review).is_err());
    }
}
