//! The function's configuration (DESIGN §4), read once: the state bucket (records and the log
//! archive) and GitHub (progress on pending statuses).

use kiln_lambda::{ConfigError, GitHubSettings, Vars};

/// Everything kiln-log-relay reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `KILN_STATE_BUCKET`.
    pub state_bucket: String,
    /// GitHub.
    pub github: GitHubSettings,
}

impl Config {
    /// The configuration in `vars`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable missing or wrong.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self { state_bucket: vars.state_bucket()?, github: vars.github()? })
    }
}
