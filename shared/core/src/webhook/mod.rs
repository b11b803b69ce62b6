//! GitHub deliveries: signature verification and parsing into a closed set of domain events.

mod event;
mod event_type;
mod ids;
mod payload;
mod verify;

pub use event::{
    ParseError, PullRequest, PullRequestAction, Push, RefKind, Release, ReleaseAction, Repository,
    Sender, Trigger, parse, ref_kind,
};
pub use event_type::{EventType, UnknownEventType, event_type};
pub use ids::{CommitSha, DeliveryId, IdError, RepoFullName, check_ref_name};
pub use verify::{
    Delivery, DeliveryHeaders, MAX_BODY_BYTES, VerifyError, check_signature, sign, verify,
};
