//! The wire shape of the GitHub payloads kiln reads: only the fields it uses, typed.
//!
//! Every other field is skipped by serde, so large payloads parse quickly and new GitHub
//! fields never break intake. These types stay inside the webhook module; the rest of kiln
//! sees [`super::event::Trigger`].

use serde::{Deserialize, Deserializer};

/// `null` read as the type's default, for lists and flags GitHub may send as `null`.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Deserialize)]
pub(super) struct Repository {
    pub full_name: String,
    #[serde(default)]
    pub clone_url: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Sender {
    pub id: u64,
    #[serde(default)]
    pub login: Option<String>,
}

/// One of a push's `commits`: only the paths (messages of earlier commits are never tested).
#[derive(Debug, Deserialize)]
pub(super) struct Commit {
    #[serde(default, deserialize_with = "null_default")]
    pub added: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub modified: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub removed: Vec<String>,
}

/// A push's `head_commit`: only its message.
#[derive(Debug, Deserialize)]
pub(super) struct HeadCommit {
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Push {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    #[serde(default, deserialize_with = "null_default")]
    pub created: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub deleted: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub forced: bool,
    #[serde(default)]
    pub base_ref: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub commits: Vec<Commit>,
    #[serde(default)]
    pub head_commit: Option<HeadCommit>,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<Sender>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RepoRef {
    pub full_name: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Branch {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    #[serde(default)]
    pub repo: Option<RepoRef>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PullRequestBody {
    pub number: u64,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub merged: Option<bool>,
    #[serde(default)]
    pub title: Option<String>,
    pub head: Branch,
    pub base: Branch,
}

#[derive(Debug, Deserialize)]
pub(super) struct PullRequest {
    pub action: String,
    #[serde(default)]
    pub number: Option<u64>,
    pub pull_request: PullRequestBody,
    #[serde(default)]
    pub before: Option<String>,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<Sender>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReleaseBody {
    pub tag_name: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub prerelease: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub draft: bool,
    #[serde(default)]
    pub target_commitish: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Release {
    pub action: String,
    pub release: ReleaseBody,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<Sender>,
}

/// Only the `action` of a delivery, read when the full shape is missing.
#[derive(Debug, Deserialize)]
pub(super) struct ActionOnly {
    #[serde(default)]
    pub action: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Ping {
    #[serde(default)]
    pub zen: Option<String>,
    #[serde(default)]
    pub hook_id: Option<u64>,
}
