//! The function's configuration (DESIGN §4), read once: the state bucket, the cluster and log
//! group (the launch-only variables may be absent), GitHub.

use kiln_aws::AwsConfig;
use kiln_lambda::{ConfigError, GitHubSettings, Vars};

/// Everything kiln-task-events reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where builds are and how tasks are described.
    pub aws: AwsConfig,
    /// GitHub.
    pub github: GitHubSettings,
}

impl Config {
    /// The configuration in `vars`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable missing or wrong.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self { aws: vars.aws_without_launch()?, github: vars.github()? })
    }
}
