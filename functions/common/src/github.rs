//! kiln's GitHub adapters in a function: the credential read from Secrets Manager
//! (`KILN_GITHUB_SECRET_ARN`), the client, the status reporter and the source host, and the
//! credential's values for the relay to mask.

use kiln_aws::AwsSecretStore;
use kiln_core::logs::Masker;
use kiln_core::ports::{PortError, SecretStore};
use kiln_github::{
    GitHubAuth, GitHubClient, GitHubConfig, GitHubSourceHost, GitHubStatusReporter, RetryPolicy,
};
use secrecy::{ExposeSecret, SecretString};

use crate::config::GitHubSettings;

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
    masked: Vec<String>,
}

impl GitHub {
    /// A masker of kiln's own GitHub credential (the token, or each line of the App's key).
    pub fn masker(&self) -> Masker {
        Masker::new(&self.masked)
    }
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
        masked,
    })
}
