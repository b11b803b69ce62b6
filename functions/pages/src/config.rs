//! The function's configuration (DESIGN §4), read once: the state bucket (records, summaries,
//! log archives), the catalog (which projects are public), the build log group (logs while a
//! build runs), the webhook secret's ARN (the key that signs page links is derived from it) and
//! the pages' base URL (links are relative to the Function URL's root without one).

use kiln_lambda::{ConfigError, S3Location, Vars};

/// Everything kiln-pages reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `KILN_STATE_BUCKET`.
    pub state_bucket: String,
    /// `KILN_CATALOG`.
    pub catalog: S3Location,
    /// `KILN_LOG_GROUP`.
    pub log_group: String,
    /// `KILN_WEBHOOK_SECRET_ARN`.
    pub webhook_secret_arn: String,
    /// `KILN_PAGES_URL`, or empty for links from the root.
    pub pages_url: String,
}

impl Config {
    /// The configuration in `vars`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable missing or wrong.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            state_bucket: vars.state_bucket()?,
            catalog: vars.catalog()?,
            log_group: vars.required("KILN_LOG_GROUP")?,
            webhook_secret_arn: vars.webhook_secret_arn()?,
            pages_url: vars.pages_url().unwrap_or_default(),
        })
    }
}
