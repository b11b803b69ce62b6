//! Reading a function's configuration, once, at cold start: the DESIGN §4 variables (the only
//! place kiln's functions read their environment), with the name of a variable that is missing
//! or wrong in every error.
//!
//! Which function needs what (the rest it ignores):
//!
//! | variable | webhook | task-events | log-relay | sweeper | pages |
//! |---|---|---|---|---|---|
//! | `KILN_STATE_BUCKET` | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | `KILN_CATALOG` | ✓ | | | | ✓ |
//! | `KILN_CLUSTER` | ✓ | ✓ | | ✓ | |
//! | `KILN_SUBNETS`, `KILN_SECURITY_GROUPS`, `KILN_ASSIGN_PUBLIC_IP`, the three role ARNs | ✓ | | | | |
//! | `KILN_LOG_GROUP` | ✓ | ✓ | | ✓ | ✓ |
//! | `KILN_WEBHOOK_SECRET_ARN` | ✓ | | | | ✓ (the page links' key is derived from it) |
//! | `KILN_GITHUB_SECRET_ARN`, `KILN_GITHUB_API_URL` | ✓ | ✓ | ✓ | ✓ | |
//! | `KILN_PAGES_URL` | ✓ | | | | ✓ |
//!
//! Functions that stop and describe tasks but never start one (task-events, the sweeper) take
//! the launch-only variables when set and need not have them.

use hmac::{Hmac, Mac};
use kiln_aws::{AwsConfig, AwsConfigError};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The variables only a function that starts tasks needs.
const LAUNCH_ONLY: &[&str] = &[
    "KILN_SUBNETS",
    "KILN_SECURITY_GROUPS",
    "KILN_EXECUTION_ROLE_ARN",
    "KILN_TASK_ROLE_ARN",
    "KILN_UNTRUSTED_TASK_ROLE_ARN",
];

/// What a launch-only variable reads as in a function that starts no task.
const NOT_LAUNCHING: &str = "unused-by-this-function";

/// Why a function's configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable is not set (or empty).
    #[error("read {0}: the variable is not set")]
    Missing(&'static str),
    /// A variable is set to something it cannot be.
    #[error("read {name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The AWS settings.
    #[error(transparent)]
    Aws(#[from] AwsConfigError),
}

/// An object in S3: `s3://BUCKET/KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
}

impl S3Location {
    /// Reads `s3://BUCKET/KEY`.
    pub fn parse(text: &str) -> Option<Self> {
        let (bucket, key) = text.trim().strip_prefix("s3://")?.split_once('/')?;
        (!bucket.is_empty() && !key.is_empty() && !key.ends_with('/'))
            .then(|| Self { bucket: bucket.to_owned(), key: key.to_owned() })
    }
}

/// Where GitHub is and which secret holds kiln's credential for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubSettings {
    /// `KILN_GITHUB_SECRET_ARN`: JSON `{"token": …}` or `{"appId": …, "privateKey": …}`.
    pub secret_arn: String,
    /// `KILN_GITHUB_API_URL`, `https://api.github.com` by default.
    pub api_url: String,
}

/// A variable's value by name.
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A function's environment, read through one lookup.
pub struct Vars {
    lookup: Lookup,
}

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vars").finish_non_exhaustive()
    }
}

impl Vars {
    /// The process's environment.
    pub fn from_env() -> Self {
        Self { lookup: Box::new(|name| std::env::var(name).ok()) }
    }

    /// The variables of `pairs` (for tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self { lookup: Box::new(move |name| map.get(name).cloned()) }
    }

    /// `name`, trimmed, when set and not empty.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// `name`, which must be set.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] naming it.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name))
    }

    /// Whether Lambda's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`).
    pub fn json_logs(&self) -> bool {
        self.get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"))
    }

    /// The log level: `AWS_LAMBDA_LOG_LEVEL` (Lambda's), else `RUST_LOG`, lower case.
    pub fn log_level(&self) -> Option<String> {
        self.get("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|| self.get("RUST_LOG"))
            .map(|l| l.to_ascii_lowercase())
    }

    /// `KILN_STATE_BUCKET`.
    ///
    /// # Errors
    /// [`ConfigError`] naming it when it is missing.
    pub fn state_bucket(&self) -> Result<String, ConfigError> {
        self.required("KILN_STATE_BUCKET")
    }

    /// `KILN_CATALOG` (`s3://BUCKET/KEY`).
    ///
    /// # Errors
    /// [`ConfigError`] naming it when it is missing or not an `s3://` location.
    pub fn catalog(&self) -> Result<S3Location, ConfigError> {
        S3Location::parse(&self.required("KILN_CATALOG")?).ok_or(ConfigError::Invalid {
            name: "KILN_CATALOG",
            reason: "not an s3://BUCKET/KEY location",
        })
    }

    /// `KILN_GITHUB_SECRET_ARN` and `KILN_GITHUB_API_URL`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the secret's variable when it is missing.
    pub fn github(&self) -> Result<GitHubSettings, ConfigError> {
        Ok(GitHubSettings {
            secret_arn: self.required("KILN_GITHUB_SECRET_ARN")?,
            api_url: self
                .get("KILN_GITHUB_API_URL")
                .unwrap_or_else(|| kiln_github::DEFAULT_API_URL.to_owned()),
        })
    }

    /// `KILN_WEBHOOK_SECRET_ARN`.
    ///
    /// # Errors
    /// [`ConfigError`] naming it when it is missing.
    pub fn webhook_secret_arn(&self) -> Result<String, ConfigError> {
        self.required("KILN_WEBHOOK_SECRET_ARN")
    }

    /// `KILN_PAGES_URL`, when set: the build pages' base URL.
    pub fn pages_url(&self) -> Option<String> {
        self.get("KILN_PAGES_URL")
    }

    /// The AWS settings of a function that starts tasks: every variable required.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or wrong variable.
    pub fn aws(&self) -> Result<AwsConfig, ConfigError> {
        Ok(AwsConfig::from_lookup(|name| self.get(name))?)
    }

    /// The AWS settings of a function that describes and stops tasks but starts none: the
    /// launch-only variables may be absent.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or wrong variable.
    pub fn aws_without_launch(&self) -> Result<AwsConfig, ConfigError> {
        Ok(AwsConfig::from_lookup(|name| {
            self.get(name).or_else(|| LAUNCH_ONLY.contains(&name).then(|| NOT_LAUNCHING.to_owned()))
        })?)
    }

    /// The account id builds belong to: the one of the installation's task role ARN
    /// (`arn:aws:iam::ACCOUNT:role/…`), else kiln's local one.
    pub fn account(&self) -> String {
        ["KILN_TASK_ROLE_ARN", "KILN_EXECUTION_ROLE_ARN", "KILN_UNTRUSTED_TASK_ROLE_ARN"]
            .iter()
            .filter_map(|name| self.get(name))
            .find_map(|arn| {
                let account = arn.split(':').nth(4)?.to_owned();
                (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
                    .then_some(account)
            })
            .unwrap_or_else(|| kiln_core::project::LOCAL_ACCOUNT.to_owned())
    }
}

/// The key that signs build page links: derived from the webhook secret (an HMAC-SHA256 of a
/// fixed label under it), so that no other secret has to be created and the webhook and pages
/// functions agree without sharing more. Rotating the webhook secret invalidates old links.
pub fn pages_signing_key(webhook_secret: &SecretString) -> SecretString {
    let mac = Hmac::<Sha256>::new_from_slice(webhook_secret.expose_secret().as_bytes());
    let key = mac
        .map(|mut mac| {
            mac.update(b"kiln build pages v1");
            hex::encode(mac.finalize().into_bytes())
        })
        .unwrap_or_default();
    SecretString::from(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: &[(&str, &str)] = &[
        ("KILN_STATE_BUCKET", "state"),
        ("KILN_CLUSTER", "kiln"),
        ("KILN_LOG_GROUP", "/kiln/builds"),
    ];

    #[test]
    fn locations_urls_and_accounts() {
        let c = S3Location::parse("s3://kiln-state/catalog/projects.yml");
        assert_eq!(
            c,
            Some(S3Location { bucket: "kiln-state".into(), key: "catalog/projects.yml".into() })
        );
        assert_eq!(S3Location::parse("kiln-state/x"), None);
        assert_eq!(S3Location::parse("s3://b/"), None);
        let v = Vars::from_pairs(&[("KILN_TASK_ROLE_ARN", "arn:aws:iam::123456789012:role/t")]);
        assert_eq!(v.account(), "123456789012");
        assert_eq!(Vars::from_pairs(&[]).account(), kiln_core::project::LOCAL_ACCOUNT);
        assert_eq!(
            Vars::from_pairs(&[("KILN_GITHUB_SECRET_ARN", "arn")]).github().ok().map(|g| g.api_url),
            Some("https://api.github.com".to_owned())
        );
    }

    #[test]
    fn missing_variables_are_named() {
        let v = Vars::from_pairs(&[("KILN_CATALOG", "projects.yml")]);
        assert_eq!(
            v.catalog().err().map(|e| e.to_string()).as_deref(),
            Some("read KILN_CATALOG: not an s3://BUCKET/KEY location")
        );
        assert_eq!(
            v.state_bucket().err().map(|e| e.to_string()).as_deref(),
            Some("read KILN_STATE_BUCKET: the variable is not set")
        );
        let v = Vars::from_pairs(AWS);
        assert!(v.aws_without_launch().is_ok());
        assert_eq!(
            v.aws().err().map(|e| e.to_string()).as_deref(),
            Some("read KILN_SUBNETS: the variable is not set")
        );
    }

    #[test]
    fn the_pages_key_is_derived_and_stable() {
        let a = pages_signing_key(&SecretString::from("s".to_owned()));
        let b = pages_signing_key(&SecretString::from("s".to_owned()));
        let c = pages_signing_key(&SecretString::from("t".to_owned()));
        assert_eq!(a.expose_secret(), b.expose_secret());
        assert_ne!(a.expose_secret(), c.expose_secret());
        assert_eq!(a.expose_secret().len(), 64);
    }
}
