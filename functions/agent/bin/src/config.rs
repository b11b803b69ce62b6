//! The agent's configuration, read once: its arguments (what a runner's command or RunTask's
//! overrides say) and the source credential a local runner may put in its environment
//! (`KILN_GIT_TOKEN`; every `KILN_*` variable is kept from a build's commands). In a task, the
//! AWS SDK reads the standard variables itself (`AWS_REGION`, `AWS_ENDPOINT_URL`, the
//! container credentials); nothing else is configured.

use std::path::PathBuf;

use kiln_aws::{S3Url, ecs::S3UrlError};

/// Runs one kiln build description.
#[derive(Debug, clap::Parser)]
#[command(
    name = "kiln-agent",
    version,
    about = "Runs one kiln build description: the entry point of a build's container or child process",
    after_help = "Locally (kiln serve): --description FILE --data-dir DIR [--secrets FILE]; the summary goes to DATA_DIR/builds/<project>/<number>/summary.json.\nIn a Fargate task: --description s3://BUCKET/KEY [--source-token s3://BUCKET/KEY]; objects, secrets and the summary (builds/<project>/<number>/summary.json in the description's bucket) go through AWS, configured by the standard AWS variables.\nThe log goes to stdout; with --summary, the summary also goes to FILE.\n\nExit status: 0 when the build SUCCEEDED, 1 when it did not, 2 when it could not start (an unreadable description, no store) or its summary could not be stored."
)]
pub struct Config {
    /// The build description: a file (JSON, as a local runner writes it), or its object in the
    /// state bucket in a task.
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub description: PathBuf,
    /// The data directory of a local installation: objects under DATA_DIR/s3, build state under
    /// DATA_DIR/builds. Required with a description file; refused with one in S3.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Values of the build's parameter-store and secrets-manager variables: NAME=VALUE lines
    /// (local runs; a task reads them from SSM and Secrets Manager).
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// The one-use object holding the token that fetches the source, which the agent reads and
    /// deletes before the build starts (tasks only; the ECS runner hands it over).
    #[arg(long, value_name = "s3://BUCKET/KEY")]
    pub source_token: Option<String>,
    /// Also write the summary to this file.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

/// Where the build description comes from, and with it every store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A local runner's files.
    Local {
        /// The description file.
        description: PathBuf,
        /// The data directory.
        data_dir: PathBuf,
        /// The secrets file.
        secrets: Option<PathBuf>,
    },
    /// A Fargate task: the state bucket and the AWS services.
    Task {
        /// The description's object.
        description: S3Url,
        /// The source token's one-use object.
        source_token: Option<S3Url>,
    },
}

/// Arguments that do not go together.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An `s3://` argument that is not one.
    #[error(transparent)]
    Url(#[from] S3UrlError),
    /// A description file without a data directory.
    #[error("a description file needs --data-dir (a task's description is s3://BUCKET/KEY)")]
    NoDataDir,
    /// A local option with a description in S3.
    #[error("{0} is for local runs; a description in S3 uses the AWS services")]
    LocalOnly(&'static str),
    /// `--source-token` with a description file.
    #[error("--source-token is for tasks; it needs a description in S3")]
    TaskOnly,
}

impl Config {
    /// Where the build comes from.
    ///
    /// # Errors
    /// [`ConfigError`] for arguments that do not go together.
    pub fn origin(&self) -> Result<Origin, ConfigError> {
        let in_s3 = self.description.to_str().filter(|d| d.starts_with("s3://"));
        match in_s3 {
            Some(url) => {
                if self.data_dir.is_some() {
                    return Err(ConfigError::LocalOnly("--data-dir"));
                }
                if self.secrets.is_some() {
                    return Err(ConfigError::LocalOnly("--secrets"));
                }
                Ok(Origin::Task {
                    description: S3Url::parse(url)?,
                    source_token: self.source_token.as_deref().map(S3Url::parse).transpose()?,
                })
            }
            None => {
                if self.source_token.is_some() {
                    return Err(ConfigError::TaskOnly);
                }
                Ok(Origin::Local {
                    description: self.description.clone(),
                    data_dir: self.data_dir.clone().ok_or(ConfigError::NoDataDir)?,
                    secrets: self.secrets.clone(),
                })
            }
        }
    }
}

/// The credential that fetches a git source, when a local runner gave one.
pub fn git_token() -> Option<secrecy::SecretString> {
    std::env::var("KILN_GIT_TOKEN").ok().filter(|t| !t.is_empty()).map(secrecy::SecretString::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn origin(args: &[&str]) -> Result<Origin, String> {
        let config =
            Config::try_parse_from(std::iter::once("kiln-agent").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        config.origin().map_err(|e| e.to_string())
    }

    #[test]
    fn a_description_in_s3_is_a_task() {
        let task = origin(&[
            "--description",
            "s3://state/builds/web/7/description.json",
            "--source-token",
            "s3://state/builds/web/7/source-token-ab",
        ]);
        let Ok(Origin::Task { description, source_token }) = task else { panic!("{task:?}") };
        assert_eq!(description.key, "builds/web/7/description.json");
        assert_eq!(source_token.map(|u| u.key).as_deref(), Some("builds/web/7/source-token-ab"));
    }

    #[test]
    fn a_description_file_is_local() {
        let local = origin(&["--description", "d.json", "--data-dir", "data"]);
        assert_eq!(
            local,
            Ok(Origin::Local {
                description: "d.json".into(),
                data_dir: "data".into(),
                secrets: None
            })
        );
    }

    #[test]
    fn arguments_that_do_not_go_together() {
        let e = |args: &[&str]| origin(args).err().unwrap_or_default();
        assert!(e(&["--description", "d.json"]).contains("needs --data-dir"));
        assert!(
            e(&["--description", "s3://b/k", "--data-dir", "x"])
                .starts_with("--data-dir is for local runs")
        );
        assert!(
            e(&["--description", "s3://b/k", "--secrets", "x"])
                .starts_with("--secrets is for local runs")
        );
        assert!(
            e(&["--description", "d", "--data-dir", "x", "--source-token", "s3://b/t"])
                .contains("is for tasks")
        );
        assert!(e(&["--description", "s3://bucket"]).contains("as s3://BUCKET/KEY"));
    }
}
