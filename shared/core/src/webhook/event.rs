//! GitHub deliveries as a closed set of domain events ([`Trigger`]), parsed from the payload.
//!
//! Only `push`, `pull_request`, `release` and `ping` are read; every other event becomes
//! [`Trigger::Ignored`] with a reason and its body is not even parsed. A known event whose body
//! does not have the expected shape is a [`ParseError`].

use super::ids::{CommitSha, IdError, RepoFullName, check_ref_name};
use super::payload;

/// The repository a delivery is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// `repository.full_name`.
    pub full_name: RepoFullName,
    /// `repository.clone_url`.
    pub clone_url: Option<String>,
    /// `repository.html_url`.
    pub html_url: Option<String>,
}

/// Who caused the delivery (`sender`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// `sender.id`: the numeric GitHub account id.
    pub id: u64,
    /// `sender.login`.
    pub login: Option<String>,
}

/// What a pushed ref is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind<'a> {
    /// `refs/heads/<name>`.
    Branch(&'a str),
    /// `refs/tags/<name>`.
    Tag(&'a str),
    /// Any other ref, as written.
    Other(&'a str),
}

/// Splits a full ref into branch, tag or other.
pub fn ref_kind(git_ref: &str) -> RefKind<'_> {
    if let Some(b) = git_ref.strip_prefix("refs/heads/") {
        RefKind::Branch(b)
    } else if let Some(t) = git_ref.strip_prefix("refs/tags/") {
        RefKind::Tag(t)
    } else {
        RefKind::Other(git_ref)
    }
}

/// A `push` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The repository pushed to.
    pub repository: Repository,
    /// Who pushed.
    pub sender: Option<Sender>,
    /// `ref`: `refs/heads/main`, `refs/tags/v1`.
    pub git_ref: String,
    /// `before`: the previous tip (40 zeros when the ref is created).
    pub before: CommitSha,
    /// `after`: the new tip (40 zeros when the ref is deleted).
    pub after: CommitSha,
    /// The ref was created by this push.
    pub created: bool,
    /// The ref was deleted by this push.
    pub deleted: bool,
    /// The push was forced.
    pub forced: bool,
    /// `base_ref`, set by GitHub for some tag pushes.
    pub base_ref: Option<String>,
    /// Paths added, modified or removed over every commit of the push, sorted, without repeats.
    pub changed_files: Vec<String>,
    /// `head_commit.message`.
    pub head_commit_message: Option<String>,
}

impl Push {
    /// Whether this push deletes its ref (`deleted`, or `after` = 40 zeros): nothing to build.
    pub fn deletes_ref(&self) -> bool {
        self.deleted || self.after.is_zero()
    }
}

/// The `action` of a `pull_request` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullRequestAction {
    /// `opened`.
    Opened,
    /// `reopened`.
    Reopened,
    /// `synchronize`: new commits on the head branch.
    Synchronize,
    /// `closed` (see [`PullRequest::merged`]).
    Closed,
    /// `edited`.
    Edited,
    /// `ready_for_review`.
    ReadyForReview,
    /// `converted_to_draft`.
    ConvertedToDraft,
    /// Any other action (`labeled`, `assigned`, ...), as sent.
    Other(String),
}

impl PullRequestAction {
    fn parse(action: &str) -> Self {
        match action {
            "opened" => Self::Opened,
            "reopened" => Self::Reopened,
            "synchronize" => Self::Synchronize,
            "closed" => Self::Closed,
            "edited" => Self::Edited,
            "ready_for_review" => Self::ReadyForReview,
            "converted_to_draft" => Self::ConvertedToDraft,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The action as GitHub spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Opened => "opened",
            Self::Reopened => "reopened",
            Self::Synchronize => "synchronize",
            Self::Closed => "closed",
            Self::Edited => "edited",
            Self::ReadyForReview => "ready_for_review",
            Self::ConvertedToDraft => "converted_to_draft",
            Self::Other(s) => s,
        }
    }
}

/// A `pull_request` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// What happened.
    pub action: PullRequestAction,
    /// The base repository (where the pull request lives).
    pub repository: Repository,
    /// Who caused the delivery.
    pub sender: Option<Sender>,
    /// The pull request number.
    pub number: u64,
    /// `pull_request.draft`.
    pub draft: bool,
    /// `pull_request.merged`.
    pub merged: bool,
    /// `pull_request.title`.
    pub title: Option<String>,
    /// `pull_request.head.ref`: the branch name, without `refs/heads/`.
    pub head_ref: String,
    /// `pull_request.head.sha`: the commit to build and to report statuses on.
    pub head_sha: CommitSha,
    /// `pull_request.base.ref`.
    pub base_ref: String,
    /// `pull_request.head.repo.full_name`; `None` when the head repository was deleted.
    pub head_repository: Option<RepoFullName>,
    /// `before` of a `synchronize`: the previous head.
    pub before: Option<CommitSha>,
}

impl PullRequest {
    /// Whether the head branch lives in another repository than the base (a fork). A deleted
    /// head repository counts as a fork: kiln cannot tell, and the safe answer is yes.
    pub fn from_fork(&self) -> bool {
        self.head_repository.as_ref() != Some(&self.repository.full_name)
    }
}

/// The `action` of a `release` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseAction {
    /// `published`.
    Published,
    /// `released`.
    Released,
    /// `prereleased`.
    Prereleased,
    /// Any other action (`created`, `edited`, `deleted`, ...), as sent.
    Other(String),
}

/// A `release` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// What happened.
    pub action: ReleaseAction,
    /// The repository.
    pub repository: Repository,
    /// Who caused the delivery.
    pub sender: Option<Sender>,
    /// `release.tag_name`.
    pub tag_name: String,
    /// `release.name`.
    pub name: Option<String>,
    /// `release.prerelease`.
    pub prerelease: bool,
    /// `release.draft`.
    pub draft: bool,
    /// `release.target_commitish`.
    pub target_commitish: Option<String>,
}

/// A delivery as kiln understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A push of a branch or tag.
    Push(Push),
    /// Something happened to a pull request.
    PullRequest(PullRequest),
    /// Something happened to a release.
    Release(Release),
    /// The hook was set up: answered, never built.
    Ping {
        /// `zen`.
        zen: Option<String>,
        /// `hook_id`.
        hook_id: Option<u64>,
    },
    /// Any other event: answered and logged, never built.
    Ignored {
        /// The `X-GitHub-Event` name.
        event: String,
        /// Why kiln does nothing with it.
        reason: String,
    },
}

impl Trigger {
    /// The repository the delivery is about, for events kiln reads.
    pub fn repository(&self) -> Option<&Repository> {
        match self {
            Self::Push(p) => Some(&p.repository),
            Self::PullRequest(p) => Some(&p.repository),
            Self::Release(r) => Some(&r.repository),
            Self::Ping { .. } | Self::Ignored { .. } => None,
        }
    }

    /// The sender, for events kiln reads.
    pub fn sender(&self) -> Option<&Sender> {
        match self {
            Self::Push(p) => p.sender.as_ref(),
            Self::PullRequest(p) => p.sender.as_ref(),
            Self::Release(r) => r.sender.as_ref(),
            Self::Ping { .. } | Self::Ignored { .. } => None,
        }
    }
}

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON of the expected shape.
    #[error("invalid {event} payload")]
    Json {
        /// The event name.
        event: String,
        /// serde's description, which names the field.
        #[source]
        source: serde_json::Error,
    },
    /// An identifier in the payload is invalid.
    #[error("invalid {event} payload")]
    Id {
        /// The event name.
        event: String,
        /// Which identifier.
        #[source]
        source: IdError,
    },
}

/// Reads the payload of an `event_name` delivery.
///
/// # Errors
/// [`ParseError`] when a `push`, `pull_request`, `release` or `ping` body does not have
/// GitHub's shape. Other events are never an error.
pub fn parse(event_name: &str, payload: &[u8]) -> Result<Trigger, ParseError> {
    let json_err = |source| ParseError::Json { event: event_name.to_owned(), source };
    let id_err = |source| ParseError::Id { event: event_name.to_owned(), source };
    // A byte order mark is not JSON; a delivery saved by an editor may start with one.
    let payload = payload.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(payload);
    match event_name {
        "push" => {
            let p: payload::Push = serde_json::from_slice(payload).map_err(json_err)?;
            push(p).map_err(id_err)
        }
        "pull_request" => match serde_json::from_slice::<payload::PullRequest>(payload) {
            Ok(p) => pull_request(p).map_err(id_err),
            Err(e) => unbuilt_action(event_name, payload, &PR_BUILD_ACTIONS).ok_or(json_err(e)),
        },
        "release" => match serde_json::from_slice::<payload::Release>(payload) {
            Ok(p) => release(p).map_err(id_err),
            Err(e) => {
                unbuilt_action(event_name, payload, &RELEASE_BUILD_ACTIONS).ok_or(json_err(e))
            }
        },
        "ping" => {
            let p: payload::Ping = serde_json::from_slice(payload).map_err(json_err)?;
            Ok(Trigger::Ping { zen: p.zen, hook_id: p.hook_id })
        }
        "workflow_job" => Ok(Trigger::Ignored {
            event: event_name.to_owned(),
            reason: "workflow_job events (WORKFLOW_JOB_QUEUED, CodeBuild-hosted Actions runners) \
                     are not supported by kiln"
                .to_owned(),
        }),
        other => Ok(Trigger::Ignored {
            event: other.to_owned(),
            reason: format!("{other} events have no CodeBuild event type"),
        }),
    }
}

/// The `pull_request` actions that have a CodeBuild event type (spec §7.2).
const PR_BUILD_ACTIONS: [&str; 4] = ["opened", "reopened", "synchronize", "closed"];

/// The `release` actions that have a CodeBuild event type (spec §7.2).
const RELEASE_BUILD_ACTIONS: [&str; 2] = ["released", "prereleased"];

/// A delivery whose body lacks fields kiln reads, but whose `action` never builds: ignored.
///
/// GitHub's payloads differ by action (a `stacked` pull request has no `repository`, for
/// example); only the actions that can start a build must have the full shape.
fn unbuilt_action(event_name: &str, payload: &[u8], builds: &[&str]) -> Option<Trigger> {
    let action = serde_json::from_slice::<payload::ActionOnly>(payload).ok()?.action?;
    (!builds.contains(&action.as_str())).then(|| Trigger::Ignored {
        event: event_name.to_owned(),
        reason: format!("{event_name} action {action} has no CodeBuild event type"),
    })
}

fn repository(r: payload::Repository) -> Result<Repository, IdError> {
    Ok(Repository {
        full_name: RepoFullName::parse(&r.full_name)?,
        clone_url: r.clone_url,
        html_url: r.html_url,
    })
}

fn sender(s: Option<payload::Sender>) -> Option<Sender> {
    s.map(|s| Sender { id: s.id, login: s.login })
}

fn push(p: payload::Push) -> Result<Trigger, IdError> {
    let mut changed_files: Vec<String> = p
        .commits
        .into_iter()
        .flat_map(|c| c.added.into_iter().chain(c.modified).chain(c.removed))
        .collect();
    changed_files.sort_unstable();
    changed_files.dedup();
    Ok(Trigger::Push(Push {
        repository: repository(p.repository)?,
        sender: sender(p.sender),
        git_ref: check_ref_name(p.git_ref)?,
        before: CommitSha::parse(&p.before)?,
        after: CommitSha::parse(&p.after)?,
        created: p.created,
        deleted: p.deleted,
        forced: p.forced,
        base_ref: p.base_ref.map(check_ref_name).transpose()?,
        changed_files,
        head_commit_message: p.head_commit.and_then(|c| c.message),
    }))
}

fn pull_request(p: payload::PullRequest) -> Result<Trigger, IdError> {
    let pr = p.pull_request;
    Ok(Trigger::PullRequest(PullRequest {
        action: PullRequestAction::parse(&p.action),
        repository: repository(p.repository)?,
        sender: sender(p.sender),
        number: p.number.unwrap_or(pr.number),
        draft: pr.draft.unwrap_or(false),
        merged: pr.merged.unwrap_or(false),
        title: pr.title,
        head_ref: check_ref_name(pr.head.git_ref)?,
        head_sha: CommitSha::parse(&pr.head.sha)?,
        base_ref: check_ref_name(pr.base.git_ref)?,
        head_repository: pr.head.repo.map(|r| RepoFullName::parse(&r.full_name)).transpose()?,
        before: p.before.as_deref().map(CommitSha::parse).transpose()?,
    }))
}

fn release(p: payload::Release) -> Result<Trigger, IdError> {
    let action = match p.action.as_str() {
        "published" => ReleaseAction::Published,
        "released" => ReleaseAction::Released,
        "prereleased" => ReleaseAction::Prereleased,
        other => ReleaseAction::Other(other.to_owned()),
    };
    Ok(Trigger::Release(Release {
        action,
        repository: repository(p.repository)?,
        sender: sender(p.sender),
        tag_name: check_ref_name(p.release.tag_name)?,
        name: p.release.name,
        prerelease: p.release.prerelease,
        draft: p.release.draft,
        target_commitish: p.release.target_commitish.map(check_ref_name).transpose()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_where_lists_and_flags_are_expected_are_tolerated() {
        let body = br#"{"ref":"refs/heads/a","before":"0000000000000000000000000000000000000000",
            "after":"1111111111111111111111111111111111111111","created":null,"deleted":null,
            "forced":null,"commits":[{"added":null,"modified":["x"],"removed":null}],
            "head_commit":null,"repository":{"full_name":"o/r"},"sender":null}"#;
        let Ok(Trigger::Push(p)) = parse("push", body) else { panic!("push expected") };
        assert_eq!(p.changed_files, ["x"]);
        assert!(!p.deletes_ref());
        assert_eq!(p.sender, None);
    }

    #[test]
    fn unknown_events_are_ignored_without_reading_the_body() {
        let t = parse("issues", b"not json").expect("ignored");
        assert!(matches!(t, Trigger::Ignored { ref event, .. } if event == "issues"));
        assert!(parse("push", b"not json").is_err());
    }

    #[test]
    fn actions_that_never_build_are_ignored_even_without_the_full_shape() {
        // GitHub's `stacked` pull request delivery has no `repository`; a `deleted` release
        // shape may lack fields too. Neither can build, so neither is an error.
        let stacked = br#"{"action":"stacked","number":42,"pull_request":{"number":42,
            "head":{"ref":"a","sha":"abcdefabcdefabcdefabcdefabcdefabcdefabcd","repo":null},
            "base":{"ref":"b","sha":"fedcbafedcbafedcbafedcbafedcbafedcbafedc","repo":null}},
            "sender":{"id":1}}"#;
        let t = parse("pull_request", stacked).expect("ignored");
        let Trigger::Ignored { event, reason } = t else { panic!("ignored expected: {t:?}") };
        assert_eq!(event, "pull_request");
        assert_eq!(reason, "pull_request action stacked has no CodeBuild event type");
        let t = parse("release", br#"{"action":"deleted","release":{}}"#).expect("ignored");
        assert!(matches!(t, Trigger::Ignored { ref reason, .. } if reason.contains("deleted")));
        // An action that builds still needs its fields.
        let opened = br#"{"action":"opened","pull_request":{"number":1}}"#;
        assert!(parse("pull_request", opened).is_err());
        assert!(parse("release", br#"{"action":"released","release":{}}"#).is_err());
        assert!(parse("pull_request", b"{}").is_err());
    }

    #[test]
    fn a_byte_order_mark_before_the_json_is_skipped() {
        let body = b"\xEF\xBB\xBF{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}";
        let t = parse("ping", body).expect("ping");
        assert!(matches!(t, Trigger::Ping { hook_id: Some(1), .. }));
    }

    #[test]
    fn refs_with_nul_or_control_characters_are_refused() {
        let push = |r: &str| {
            format!(
                r#"{{"ref":{r},"before":"0000000000000000000000000000000000000000",
                "after":"1111111111111111111111111111111111111111","repository":{{"full_name":"o/r"}}}}"#
            )
        };
        for bad in [r#""refs/heads/a\u0000b""#, r#""refs/heads/a\nb""#, r#""refs/tags/\u001b[31m""#]
        {
            let err = parse("push", push(bad).as_bytes()).expect_err("a forged ref");
            let source = std::error::Error::source(&err).map(ToString::to_string);
            assert_eq!(err.to_string(), "invalid push payload");
            let refused = source.as_deref().is_some_and(|s| s.starts_with("invalid ref name"));
            assert!(refused, "{source:?}");
        }
        assert!(parse("push", push(r#""refs/heads/feature/ünïcode""#).as_bytes()).is_ok());
        let pr = br#"{"action":"opened","number":1,"pull_request":{"number":1,
            "head":{"ref":"f\u0000x","sha":"1111111111111111111111111111111111111111","repo":null},
            "base":{"ref":"main","sha":"2222222222222222222222222222222222222222","repo":null}},
            "repository":{"full_name":"o/r"}}"#;
        let pr = parse("pull_request", pr);
        assert!(matches!(pr, Err(ParseError::Id { .. })), "{pr:?}");
        let release = br#"{"action":"released","release":{"tag_name":"v1\u0000"},"repository":{"full_name":"o/r"}}"#;
        assert!(matches!(parse("release", release), Err(ParseError::Id { .. })));
    }

    #[test]
    fn deleted_head_repository_counts_as_a_fork() {
        let body = br#"{"action":"opened","number":1,"pull_request":{"number":1,
            "head":{"ref":"f","sha":"1111111111111111111111111111111111111111","repo":null},
            "base":{"ref":"main","sha":"2222222222222222222222222222222222222222","repo":{"full_name":"o/r"}}},
            "repository":{"full_name":"o/r"},"sender":{"id":5}}"#;
        let Ok(Trigger::PullRequest(pr)) = parse("pull_request", body) else { panic!("pr") };
        assert!(pr.from_fork());
        assert!(!pr.draft && !pr.merged);
    }
}
