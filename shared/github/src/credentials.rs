//! The [`SourceCredentials`] port over [`GitHubClient::source_token`]: what a build fetches
//! its repository with.

use kiln_core::ports::{PortFuture, SourceCredentials};
use kiln_core::webhook::RepoFullName;

use crate::GitHubClient;

impl SourceCredentials for GitHubClient {
    fn fetch_token<'a>(
        &'a self,
        repo: &'a RepoFullName,
    ) -> PortFuture<'a, Option<secrecy::SecretString>> {
        Box::pin(async move { self.source_token(repo).await.map(|t| Some(t.token)) })
    }
}
