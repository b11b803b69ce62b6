//! The function's configuration (DESIGN §4), read once: every AWS variable (it starts tasks),
//! the catalog, the webhook secret's ARN, GitHub, the pages' URL; the account builds belong to
//! is the one of the task role's ARN.

use kiln_aws::AwsConfig;
use kiln_lambda::{ConfigError, GitHubSettings, S3Location, Vars};

/// Everything kiln-webhook reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where and how tasks run, where state goes.
    pub aws: AwsConfig,
    /// `KILN_CATALOG`.
    pub catalog: S3Location,
    /// `KILN_WEBHOOK_SECRET_ARN`.
    pub webhook_secret_arn: String,
    /// GitHub.
    pub github: GitHubSettings,
    /// `KILN_PAGES_URL`, when builds link to pages.
    pub pages_url: Option<String>,
    /// The account id in build ARNs.
    pub account: String,
}

impl Config {
    /// The configuration in `vars`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable missing or wrong.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: vars.aws()?,
            catalog: vars.catalog()?,
            webhook_secret_arn: vars.webhook_secret_arn()?,
            github: vars.github()?,
            pages_url: vars.pages_url(),
            account: vars.account(),
        })
    }
}
