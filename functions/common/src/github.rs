//! kiln's GitHub adapters in a function: the credential read from Secrets Manager
//! (`KILN_GITHUB_SECRET_ARN`), the client, the status reporter and the source host, and the
//! credential's values for the relay to mask; and [`LazyGitHub`], all of it read once, when
//! first needed or begun in the background ([`Prefetch`]), so that a function is ready without
//! waiting for Secrets Manager and an event that posts nothing never reads it.

use std::sync::Arc;

use kiln_aws::AwsSecretStore;
use kiln_core::logs::Masker;
use kiln_core::ports::{
    CommitStatus, PortError, PortErrorKind, PortFuture, PullRequestDetails, SecretStore,
    SourceHost, StatusReporter,
};
use kiln_core::webhook::{CommitSha, RepoFullName};
use kiln_github::{
    GitHubAuth, GitHubClient, GitHubConfig, GitHubSourceHost, GitHubStatusReporter, RetryPolicy,
};
use secrecy::{ExposeSecret, SecretString};

use crate::config::GitHubSettings;
use crate::prefetch::Prefetch;

/// Why a function could not set itself up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A secret could not be read.
    #[error("read secret {arn}")]
    Secret {
        /// The secret's ARN.
        arn: String,
        /// What failed.
        #[source]
        source: PortError,
    },
    /// The GitHub credential or client is wrong.
    #[error("set up github")]
    GitHub(#[from] kiln_github::ConfigError),
}

/// The GitHub side of a function.
#[derive(Debug, Clone)]
pub struct GitHub {
    /// The client (also mints source tokens).
    pub client: GitHubClient,
    /// Commit statuses.
    pub statuses: GitHubStatusReporter,
    /// Pull request details and files at a commit.
    pub source: GitHubSourceHost,
    masker: Masker,
}

impl GitHub {
    /// A masker of kiln's own GitHub credential (the token, or each line of the App's key).
    pub fn masker(&self) -> &Masker {
        &self.masker
    }
}

impl From<SetupError> for PortError {
    /// A port's error for a setup that failed: as retryable as the secret's read (a credential
    /// that is not one will not become one).
    fn from(e: SetupError) -> Self {
        let kind = match &e {
            SetupError::Secret { source, .. } => source.kind,
            SetupError::GitHub(_) => PortErrorKind::Permanent,
        };
        PortError::new(kind, "set up github").with_source(e)
    }
}

/// kiln's GitHub side, read once when first needed or when [`LazyGitHub::begin`] says so (see
/// [`Prefetch`]), and the status reporter and source host over it, for the services' ports.
/// Cloning shares the one read.
#[derive(Debug, Clone)]
pub struct LazyGitHub(Arc<Prefetch<GitHub>>);

impl LazyGitHub {
    /// Reads the credential of `settings` and connects as [`connect`] does, when begun by
    /// [`LazyGitHub::begin`] or at the first use.
    pub fn later(
        sdk: &aws_config::SdkConfig,
        settings: &GitHubSettings,
        retry: RetryPolicy,
    ) -> Self {
        let (sdk, settings) = (sdk.clone(), settings.clone());
        Self(Arc::new(Prefetch::later("kiln's github credential", move || {
            let (sdk, settings) = (sdk.clone(), settings.clone());
            async move { connect(&sdk, &settings, retry).await }
        })))
    }

    /// Begins reading in the background, unless that is done or under way.
    pub fn begin(&self) {
        self.0.begin();
    }

    /// The GitHub side, once read.
    ///
    /// # Errors
    /// [`SetupError`] when it cannot be read now (the next call tries again).
    pub async fn get(&self) -> Result<&GitHub, SetupError> {
        self.0.get().await
    }
}

impl StatusReporter for LazyGitHub {
    fn post<'a>(&'a self, status: &'a CommitStatus) -> PortFuture<'a, ()> {
        Box::pin(async move { self.get().await?.statuses.post(status).await })
    }
}

impl SourceHost for LazyGitHub {
    fn pull_request_details<'a>(
        &'a self,
        repo: &'a RepoFullName,
        number: u64,
        head_sha: &'a CommitSha,
    ) -> PortFuture<'a, PullRequestDetails> {
        Box::pin(async move {
            self.get().await?.source.pull_request_details(repo, number, head_sha).await
        })
    }

    fn file_at<'a>(
        &'a self,
        repo: &'a RepoFullName,
        commit: &'a CommitSha,
        path: &'a str,
    ) -> PortFuture<'a, Vec<u8>> {
        Box::pin(async move { self.get().await?.source.file_at(repo, commit, path).await })
    }
}

/// What `derive` makes of the secret string of `arn` (see [`read_secret`]), read in the
/// background from the function's start (see [`Prefetch`]); `what` names the secret in logs.
pub fn prefetch_secret<T, F>(
    sdk: &aws_config::SdkConfig,
    arn: &str,
    what: &'static str,
    derive: F,
) -> Prefetch<T>
where
    T: Send + Sync + 'static,
    F: Fn(SecretString) -> T + Send + Sync + 'static,
{
    let (sdk, arn, derive) = (sdk.clone(), arn.to_owned(), Arc::new(derive));
    Prefetch::start(what, move || {
        let (sdk, arn, derive) = (sdk.clone(), arn.clone(), derive.clone());
        async move { read_secret(&sdk, &arn).await.map(|secret| derive(secret)) }
    })
}

/// Reads the secret string of `arn` (a plain-text secret such as the webhook secret), with
/// its final newline removed.
///
/// # Errors
/// [`SetupError::Secret`] when Secrets Manager does not give it.
pub async fn read_secret(
    sdk: &aws_config::SdkConfig,
    arn: &str,
) -> Result<SecretString, SetupError> {
    let text = AwsSecretStore::new(sdk)
        .get_secret(arn, None, None)
        .await
        .map_err(|source| SetupError::Secret { arn: arn.to_owned(), source })?;
    Ok(SecretString::from(text.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Connects to GitHub with the credential in `settings.secret_arn`, retrying as `retry` says.
///
/// # Errors
/// [`SetupError`] when the secret cannot be read or is not a GitHub credential.
pub async fn connect(
    sdk: &aws_config::SdkConfig,
    settings: &GitHubSettings,
    retry: RetryPolicy,
) -> Result<GitHub, SetupError> {
    let json = read_secret(sdk, &settings.secret_arn).await?;
    let auth = GitHubAuth::from_secret_json(json.expose_secret())?;
    let masked = match &auth {
        GitHubAuth::Token(token) => vec![token.expose_secret().to_owned()],
        GitHubAuth::App { private_key, .. } => private_key
            .expose_secret()
            .lines()
            .map(str::trim)
            .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
            .map(str::to_owned)
            .collect(),
    };
    let config = GitHubConfig::new(auth).api_url(settings.api_url.clone()).retry(retry);
    let client = GitHubClient::new(config)?;
    Ok(GitHub {
        statuses: GitHubStatusReporter::new(client.clone()),
        source: GitHubSourceHost::new(client.clone()),
        client,
        masker: Masker::new(&masked),
    })
}
