//! `GitHubStatusReporter`: the [`StatusReporter`] port over GitHub's commit statuses
//! (`POST /repos/{owner}/{repo}/statuses/{sha}`).

use kiln_core::ports::{CommitStatus, MAX_DESCRIPTION_CHARS, PortFuture, StatusReporter};

use crate::client::{As, Call, GitHubClient};
use crate::retry::RetryPolicy;

/// Posts commit statuses to GitHub.
///
/// The body is `state`, `context`, `description` (cut to GitHub's 140 characters if the
/// caller did not) and `target_url` when there is one. Errors: 404 → `NotFound` (no such
/// repository, or no access to it), 422 (no such commit) and 401/403 → `Permanent`, 429 and
/// rate limits → `Throttled`, 5xx and network failures → `Unavailable`, after the retries
/// of its [`RetryPolicy`].
#[derive(Debug, Clone)]
pub struct GitHubStatusReporter {
    client: GitHubClient,
    retry: RetryPolicy,
}

impl GitHubStatusReporter {
    /// A reporter over `client`, with the client's retry policy.
    pub fn new(client: GitHubClient) -> Self {
        let retry = client.retry_policy();
        Self { client, retry }
    }

    /// The same reporter with another retry policy (a background retrier's).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// The JSON body of a commit status.
pub(crate) fn status_body(status: &CommitStatus) -> serde_json::Value {
    let description: String = status.description.chars().take(MAX_DESCRIPTION_CHARS).collect();
    let mut body = serde_json::json!({
        "state": status.state.as_str(),
        "context": status.context,
        "description": description,
    });
    if let (Some(url), Some(map)) = (&status.target_url, body.as_object_mut()) {
        map.insert("target_url".to_owned(), url.clone().into());
    }
    body
}

impl StatusReporter for GitHubStatusReporter {
    fn post<'a>(&'a self, status: &'a CommitStatus) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let repo = &status.repository;
            let uri = format!("/repos/{}/{}/statuses/{}", repo.owner(), repo.name(), status.commit);
            let body = status_body(status);
            let call = Call::post(uri, Some(&body), As::Repo(repo));
            match self.client.send(&call, &self.retry).await {
                Ok(_) => Ok(()),
                Err(e) => Err(e.into_port(format_args!(
                    "post status {} ({}) on {repo}@{}",
                    status.state, status.context, status.commit
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::status::CommitState;
    use kiln_core::webhook::{CommitSha, RepoFullName};

    fn status(description: &str, target_url: Option<&str>) -> CommitStatus {
        CommitStatus {
            repository: RepoFullName::parse("o/r").expect("a repository name"),
            commit: CommitSha::parse(&"a".repeat(40)).expect("a commit sha"),
            state: CommitState::Pending,
            context: "AWS CodeBuild us-east-1 (p)".into(),
            description: description.into(),
            target_url: target_url.map(str::to_owned),
        }
    }

    #[test]
    fn the_body_has_githubs_fields() {
        let body = status_body(&status("Build started", Some("http://kiln/builds/p/1")));
        assert_eq!(
            body,
            serde_json::json!({
                "state": "pending",
                "context": "AWS CodeBuild us-east-1 (p)",
                "description": "Build started",
                "target_url": "http://kiln/builds/p/1",
            })
        );
        assert!(status_body(&status("x", None)).get("target_url").is_none());
    }

    #[test]
    fn the_description_never_passes_140_characters() {
        let body = status_body(&status(&"é".repeat(200), None));
        assert_eq!(body["description"].as_str().expect("a string").chars().count(), 140);
    }
}
