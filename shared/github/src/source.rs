//! `GitHubSourceHost`: the [`SourceHost`] port over GitHub's REST API: a pull request's files
//! (every page), a commit's message, a file's contents at a commit.

use base64::Engine as _;
use http::Method;
use kiln_core::ports::{MAX_FILE_BYTES, PortError, PortFuture, PullRequestDetails, SourceHost};
use kiln_core::webhook::{CommitSha, RepoFullName};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::client::{As, Call, GitHubClient};
use crate::error::GitHubError;
use crate::retry::RetryPolicy;

/// GitHub lists at most 3000 files of a pull request: 30 pages of 100.
const MAX_PAGES: usize = 30;

/// The raw media type: a file's bytes rather than JSON (files over 1 MB).
const RAW: &str = "application/vnd.github.raw+json";

/// Characters of a path segment sent as they are; everything else is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Reads pull requests and files from GitHub.
///
/// - `pull_request_details`: `GET /repos/{o}/{r}/pulls/{n}/files?per_page=100`, following
///   the `Link` header's `next` page while it stays on the API's host (GitHub stops at 3000
///   files: a larger pull request is seen by its first 3000), and the head commit's message
///   from `GET /repos/{o}/{r}/git/commits/{sha}` (the Git database's commit: its message
///   without the diff the commits endpoint computes).
/// - `file_at`: `GET /repos/{o}/{r}/contents/{path}?ref={sha}`, base64 decoded, or with the
///   raw media type when GitHub leaves a large file out of its JSON; `NotFound` on 404;
///   `Permanent` for a directory, a submodule, or more than [`MAX_FILE_BYTES`].
#[derive(Debug, Clone)]
pub struct GitHubSourceHost {
    client: GitHubClient,
    retry: RetryPolicy,
}

impl GitHubSourceHost {
    /// A source host over `client`, with the client's retry policy.
    pub fn new(client: GitHubClient) -> Self {
        let retry = client.retry_policy();
        Self { client, retry }
    }

    /// The same with another retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    async fn changed_files(
        &self,
        repo: &RepoFullName,
        number: u64,
    ) -> Result<Vec<String>, GitHubError> {
        #[derive(serde::Deserialize)]
        struct File {
            filename: String,
        }
        let mut uri =
            format!("/repos/{}/{}/pulls/{number}/files?per_page=100", repo.owner(), repo.name());
        let mut files = Vec::new();
        for _ in 0..MAX_PAGES {
            let reply = self.client.send(&Call::get(uri, As::Repo(repo)), &self.retry).await?;
            let page: Vec<File> = reply.json()?;
            files.extend(page.into_iter().map(|f| f.filename));
            let Some(next) = reply
                .headers
                .get_all(http::header::LINK)
                .iter()
                .find_map(|v| v.to_str().ok().and_then(next_link))
            else {
                break;
            };
            if !self.client.is_api_origin(&next) {
                return Err(GitHubError::Unexpected(format!(
                    "the next page {next:?} is not on the api's host"
                )));
            }
            uri = next;
        }
        Ok(files)
    }

    async fn commit_message(
        &self,
        repo: &RepoFullName,
        commit: &CommitSha,
    ) -> Result<String, GitHubError> {
        #[derive(serde::Deserialize)]
        struct Commit {
            message: String,
        }
        let uri = format!("/repos/{}/{}/git/commits/{commit}", repo.owner(), repo.name());
        let reply = self.client.send(&Call::get(uri, As::Repo(repo)), &self.retry).await?;
        Ok(reply.json::<Commit>()?.message)
    }

    async fn contents(
        &self,
        repo: &RepoFullName,
        commit: &CommitSha,
        path: &str,
    ) -> Result<Vec<u8>, GitHubError> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Contents {
            Entry {
                #[serde(rename = "type")]
                kind: String,
                size: u64,
                encoding: Option<String>,
                content: Option<String>,
            },
            Directory(
                #[expect(dead_code, reason = "only the shape (a list) matters")]
                Vec<serde::de::IgnoredAny>,
            ),
        }
        let encoded = encode_path(path)?;
        let uri =
            format!("/repos/{}/{}/contents/{encoded}?ref={commit}", repo.owner(), repo.name());
        let reply = self.client.send(&Call::get(uri.clone(), As::Repo(repo)), &self.retry).await?;
        let (kind, size, encoding, content) = match reply.json::<Contents>()? {
            Contents::Entry { kind, size, encoding, content } => (kind, size, encoding, content),
            Contents::Directory(_) => {
                return Err(GitHubError::Unexpected("a directory, not a file".into()));
            }
        };
        if kind != "file" {
            return Err(GitHubError::Unexpected(format!("a {kind}, not a file")));
        }
        if size > MAX_FILE_BYTES as u64 {
            return Err(GitHubError::TooLarge(MAX_FILE_BYTES));
        }
        match (encoding.as_deref(), content) {
            (Some("base64"), Some(content)) => {
                let text: String = content.split_ascii_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| GitHubError::Unexpected(format!("content is not base64: {e}")))?;
                if bytes.len() > MAX_FILE_BYTES {
                    return Err(GitHubError::TooLarge(MAX_FILE_BYTES));
                }
                Ok(bytes)
            }
            _ => {
                let call = Call {
                    method: Method::GET,
                    uri,
                    accept: RAW,
                    body: None,
                    who: As::Repo(repo),
                    limit: MAX_FILE_BYTES,
                };
                Ok(self.client.send(&call, &self.retry).await?.body.to_vec())
            }
        }
    }
}

/// The URL of the `rel="next"` page in a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.trim().strip_prefix('<')?.split_once('>')?;
        let next = params.split(';').any(|p| {
            p.trim().strip_prefix("rel=").is_some_and(|rel| {
                rel.trim_matches('"').split_ascii_whitespace().any(|r| r == "next")
            })
        });
        next.then(|| url.to_owned())
    })
}

/// `path` with each segment percent-encoded; `.` segments dropped; `..`, empty paths and
/// absolute paths refused.
fn encode_path(path: &str) -> Result<String, GitHubError> {
    let segments: Vec<&str> = path.split('/').filter(|s| *s != ".").collect();
    if path.starts_with('/')
        || segments.is_empty()
        || segments.iter().any(|s| s.is_empty() || *s == "..")
    {
        return Err(GitHubError::Unexpected(format!("{path:?} is not a path in the repository")));
    }
    let encoded: Vec<String> =
        segments.iter().map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect();
    Ok(encoded.join("/"))
}

impl SourceHost for GitHubSourceHost {
    fn pull_request_details<'a>(
        &'a self,
        repo: &'a RepoFullName,
        number: u64,
        head_sha: &'a CommitSha,
    ) -> PortFuture<'a, PullRequestDetails> {
        Box::pin(async move {
            let changed_files = self.changed_files(repo, number).await.map_err(|e| {
                e.into_port(format_args!("list the files of pull request #{number} of {repo}"))
            })?;
            let message = self.commit_message(repo, head_sha).await.map_err(|e| {
                e.into_port(format_args!("read the message of commit {head_sha} of {repo}"))
            })?;
            Ok(PullRequestDetails { changed_files, head_commit_message: Some(message) })
        })
    }

    fn file_at<'a>(
        &'a self,
        repo: &'a RepoFullName,
        commit: &'a CommitSha,
        path: &'a str,
    ) -> PortFuture<'a, Vec<u8>> {
        Box::pin(async move {
            self.contents(repo, commit, path).await.map_err(|e| -> PortError {
                e.into_port(format_args!("read {path} at {repo}@{commit}"))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found() {
        let header = r#"<https://api.github.com/repositories/1/pulls/2/files?page=2>; rel="next", <https://api.github.com/repositories/1/pulls/2/files?page=3>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1/pulls/2/files?page=2")
        );
        let last = r#"<https://x/a?page=1>; rel="prev", <https://x/a?page=1>; rel="first""#;
        assert_eq!(next_link(last), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn paths_are_encoded_by_segment() {
        assert_eq!(
            encode_path("buildspec.yml").expect("a path in the repository"),
            "buildspec.yml"
        );
        assert_eq!(
            encode_path("./ci/build spec#1.yml").expect("a path in the repository"),
            "ci/build%20spec%231.yml"
        );
        assert_eq!(encode_path("dir/é.yml").expect("a path in the repository"), "dir/%C3%A9.yml");
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "."] {
            assert!(encode_path(bad).is_err(), "{bad}");
        }
    }
}
