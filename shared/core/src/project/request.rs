//! What one delivery asks of one project: [`BuildRequest`], with CodeBuild's source version and
//! `CODEBUILD_*` variables for webhook builds (spec §3, §7.4).
//!
//! Choices where CodeBuild is silent [INF]:
//! - a release builds `release.tag_name` (source version), with `CODEBUILD_WEBHOOK_TRIGGER` =
//!   `tag/<tag>` and `CODEBUILD_WEBHOOK_HEAD_REF` = `refs/tags/<tag>`; it has no commit to report
//!   statuses on until the agent resolves the tag;
//! - `CODEBUILD_WEBHOOK_PREV_COMMIT` is the push's `before`, and for pull requests the
//!   `before` of a `synchronize`; unset otherwise;
//! - a push of a ref that is neither a branch nor a tag gets the trigger `ref/<ref>`;
//! - `CODEBUILD_INITIATOR` is the delivery's `User-Agent`; a delivery read from a file has
//!   none and gets `GitHub-Hookshot/local`.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::webhook::{
    CommitSha, Delivery, EventType, ParseError, RefKind, RepoFullName, Trigger, VerifyError,
    event_type, ref_kind,
};

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// One build that a delivery starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRequest {
    /// The project's name.
    pub project: String,
    /// The repository the delivery came from.
    pub repository: RepoFullName,
    /// The CodeBuild event type.
    pub event: EventType,
    /// CodeBuild's `sourceVersion`: the push's `after`, `pr/<n>`, or the release's tag.
    pub source_version: String,
    /// The commit to check out and to post statuses on (`pull_request.head.sha` for pull
    /// requests, pinning `pr/<n>`); `None` for releases.
    pub commit: Option<CommitSha>,
    /// `CODEBUILD_SOURCE_VERSION`, `CODEBUILD_RESOLVED_SOURCE_VERSION`, `CODEBUILD_INITIATOR`
    /// and every `CODEBUILD_WEBHOOK_*` variable, in a fixed order.
    pub environment_variables: Vec<EnvVar>,
    /// The pull request comes from a fork.
    pub from_fork: bool,
    /// Whether the build may see the project's secrets (false for forks under
    /// `without-secrets`).
    pub with_secrets: bool,
    /// 64 hex digits from the delivery id and the project: a redelivery gets the same key, so
    /// it never starts a second build.
    pub idempotency_key: String,
}

impl BuildRequest {
    /// The value of variable `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.environment_variables.iter().find(|v| v.name == name).map(|v| v.value.as_str())
    }
}

/// The parts of a build request that are the same for every project of a delivery.
#[derive(Debug, Clone)]
pub(super) struct WebhookBuild {
    pub event: EventType,
    pub source_version: String,
    pub commit: Option<CommitSha>,
    pub env: Vec<EnvVar>,
    pub key_seed: String,
}

impl WebhookBuild {
    /// What `trigger` builds, or why it builds nothing.
    pub fn of(delivery: &Delivery, trigger: &Trigger) -> Result<Self, String> {
        let event = event_type(trigger)?;
        let mut env = Vec::with_capacity(10);
        let mut set = |name: &str, value: &str| {
            env.push(EnvVar { name: name.to_owned(), value: value.to_owned() });
        };
        let (source_version, commit) = match trigger {
            Trigger::Push(p) => {
                let trigger_value = match ref_kind(&p.git_ref) {
                    RefKind::Branch(b) => format!("branch/{b}"),
                    RefKind::Tag(t) => format!("tag/{t}"),
                    RefKind::Other(r) => format!("ref/{}", r.trim_start_matches("refs/")),
                };
                set("CODEBUILD_SOURCE_VERSION", p.after.as_str());
                set("CODEBUILD_RESOLVED_SOURCE_VERSION", p.after.as_str());
                set("CODEBUILD_WEBHOOK_EVENT", event.as_str());
                set("CODEBUILD_WEBHOOK_TRIGGER", &trigger_value);
                set("CODEBUILD_WEBHOOK_HEAD_REF", &p.git_ref);
                set("CODEBUILD_WEBHOOK_PREV_COMMIT", p.before.as_str());
                (p.after.as_str().to_owned(), Some(p.after.clone()))
            }
            Trigger::PullRequest(pr) => {
                let version = format!("pr/{}", pr.number);
                set("CODEBUILD_SOURCE_VERSION", &version);
                set("CODEBUILD_RESOLVED_SOURCE_VERSION", pr.head_sha.as_str());
                set("CODEBUILD_WEBHOOK_EVENT", event.as_str());
                set("CODEBUILD_WEBHOOK_TRIGGER", &version);
                set("CODEBUILD_WEBHOOK_HEAD_REF", &format!("refs/heads/{}", pr.head_ref));
                set("CODEBUILD_WEBHOOK_BASE_REF", &format!("refs/heads/{}", pr.base_ref));
                if let Some(before) = &pr.before {
                    set("CODEBUILD_WEBHOOK_PREV_COMMIT", before.as_str());
                }
                (version, Some(pr.head_sha.clone()))
            }
            Trigger::Release(r) => {
                set("CODEBUILD_SOURCE_VERSION", &r.tag_name);
                set("CODEBUILD_WEBHOOK_EVENT", event.as_str());
                set("CODEBUILD_WEBHOOK_TRIGGER", &format!("tag/{}", r.tag_name));
                set("CODEBUILD_WEBHOOK_HEAD_REF", &format!("refs/tags/{}", r.tag_name));
                (r.tag_name.clone(), None)
            }
            Trigger::Ping { .. } | Trigger::Ignored { .. } => {
                return Err("the event has no CodeBuild event type".to_owned());
            }
        };
        if let Some(sender) = trigger.sender() {
            set("CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID", &sender.id.to_string());
        }
        set(
            "CODEBUILD_INITIATOR",
            delivery.user_agent.as_deref().unwrap_or("GitHub-Hookshot/local"),
        );
        let key_seed = match &delivery.delivery_id {
            Some(id) => format!("delivery:{id}"),
            None => format!("payload:{}", hex::encode(Sha256::digest(&delivery.payload))),
        };
        Ok(Self { event, source_version, commit, env, key_seed })
    }

    /// The request for `project`.
    pub fn request(
        &self,
        project: &str,
        repository: &RepoFullName,
        from_fork: bool,
        with_secrets: bool,
    ) -> BuildRequest {
        let mut h = Sha256::new();
        h.update(self.key_seed.as_bytes());
        h.update(b"\0");
        h.update(project.as_bytes());
        BuildRequest {
            project: project.to_owned(),
            repository: repository.clone(),
            event: self.event,
            source_version: self.source_version.clone(),
            commit: self.commit.clone(),
            environment_variables: self.env.clone(),
            from_fork,
            with_secrets,
            idempotency_key: hex::encode(h.finalize()),
        }
    }
}

/// Why a local delivery file cannot give a build.
#[derive(Debug, thiserror::Error)]
pub enum LocalEventError {
    /// The body is too large or a form without `payload`.
    #[error("unreadable delivery body")]
    Body(#[from] VerifyError),
    /// The payload does not have GitHub's shape.
    #[error("unreadable delivery payload")]
    Parse(#[from] ParseError),
    /// The delivery has nothing to build (a ping, an ignored event, a deleted ref).
    #[error("the delivery builds nothing: {0}")]
    NothingToBuild(String),
}

/// The build request a delivery read from a local file gives `project`, and the delivery's
/// event, without a signature
/// check and without filter groups: for `kiln run --event FILE --event-name NAME`, which
/// takes the source version and `CODEBUILD_WEBHOOK_*` variables from it. Fork pull requests
/// keep their secrets here (the user runs them on purpose).
///
/// # Errors
/// [`LocalEventError`] when the body cannot be read or the event has nothing to build.
pub fn request_for_local_event(
    project: &str,
    event_name: &str,
    body: &[u8],
) -> Result<(BuildRequest, Trigger), LocalEventError> {
    let delivery = Delivery::unsigned(event_name, body)?;
    let trigger = crate::webhook::parse(event_name, &delivery.payload)?;
    let build = WebhookBuild::of(&delivery, &trigger).map_err(LocalEventError::NothingToBuild)?;
    let Some(repo) = trigger.repository() else {
        return Err(LocalEventError::NothingToBuild("the event has no repository".to_owned()));
    };
    let from_fork = matches!(&trigger, Trigger::PullRequest(pr) if pr.from_fork());
    let request = build.request(project, &repo.full_name, from_fork, true);
    Ok((request, trigger))
}
