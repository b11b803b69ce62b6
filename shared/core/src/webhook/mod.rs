//! GitHub deliveries: signature verification and parsing into a closed set of domain events;
//! the event names GitHub sends and the shapes of their payloads, for checking what a user
//! names by hand.

mod event;
mod event_names;
mod event_type;
mod ids;
mod payload;
mod shape;
mod verify;

pub use event::{
    ParseError, PullRequest, PullRequestAction, Push, RefKind, Release, ReleaseAction, Repository,
    Sender, Trigger, parse, ref_kind,
};
pub use event_names::{GITHUB_EVENTS, UnknownEventName, check_event_name};
pub use event_type::{EventType, UnknownEventType, event_type};
pub use ids::{CommitSha, DeliveryId, IdError, RepoFullName, check_ref_name};
pub use shape::{SHAPES, Shape, ShapeMismatch, check_shape, shape_of};
pub use verify::{
    Delivery, DeliveryHeaders, MAX_BODY_BYTES, VerifyError, check_signature, sign, verify,
};
