//! The installation's AWS settings (DESIGN §4), read once from the environment: where tasks
//! run, with which roles, where state and logs go. The Lambda functions build their adapters
//! from one [`AwsConfig`]; region, credentials and `AWS_ENDPOINT_URL` are the SDK's own
//! ([`crate::load_sdk_config`]).

/// The default image of the `init` container: the AWS CLI's official image on ECR Public,
/// which has `sh` and `aws` (all the init container needs to copy the agent from S3).
pub const DEFAULT_INIT_IMAGE: &str = "public.ecr.aws/aws-cli/aws-cli:latest";

/// Whether a task's network interface gets a public IP (`KILN_ASSIGN_PUBLIC_IP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignPublicIp {
    /// `ENABLED`: for subnets whose route to the internet is an internet gateway.
    Enabled,
    /// `DISABLED`: for private subnets with a NAT gateway or VPC endpoints.
    Disabled,
}

impl AssignPublicIp {
    /// ECS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
        }
    }
}

/// Why the configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsConfigError {
    /// A required variable is not set (or is empty).
    #[error("read {0}: the variable is not set")]
    Missing(&'static str),
    /// A variable is set to something it cannot be.
    #[error("read {name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The installation's AWS settings: the DESIGN §4 variables that the adapters need (none of
/// them is a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// `KILN_STATE_BUCKET`: build records, numbers, keys, descriptions, summaries, the agent.
    pub state_bucket: String,
    /// `KILN_CLUSTER`: the ECS cluster builds run on (name or ARN).
    pub cluster: String,
    /// `KILN_SUBNETS`: the subnets of a task's network interface (at least one).
    pub subnets: Vec<String>,
    /// `KILN_SECURITY_GROUPS`: its security groups (at least one).
    pub security_groups: Vec<String>,
    /// `KILN_ASSIGN_PUBLIC_IP`: `ENABLED` or `DISABLED` (default `DISABLED`).
    pub assign_public_ip: AssignPublicIp,
    /// `KILN_EXECUTION_ROLE_ARN`: the role ECS pulls images and writes logs with.
    pub execution_role_arn: String,
    /// `KILN_TASK_ROLE_ARN`: the build's role when it may read secrets.
    pub task_role_arn: String,
    /// `KILN_UNTRUSTED_TASK_ROLE_ARN`: the build's role when it may not (fork pull requests).
    /// Required: falling back to the trusted role would hand fork builds its permissions.
    pub untrusted_task_role_arn: String,
    /// `KILN_LOG_GROUP`: the build log group (awslogs driver).
    pub log_group: String,
    /// `KILN_INIT_IMAGE`: the `init` container's image, [`DEFAULT_INIT_IMAGE`] when unset. It
    /// needs `sh` and the AWS CLI.
    pub init_image: String,
}

impl AwsConfig {
    /// The configuration from the process's environment.
    ///
    /// # Errors
    /// [`AwsConfigError`] naming the first variable that is missing or wrong.
    pub fn from_env() -> Result<Self, AwsConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The configuration from `lookup` (a variable's value by name), for tests and callers
    /// that keep their environment elsewhere.
    ///
    /// # Errors
    /// [`AwsConfigError`] naming the first variable that is missing or wrong.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, AwsConfigError> {
        let get = |name: &'static str| {
            lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
        };
        let required = |name: &'static str| get(name).ok_or(AwsConfigError::Missing(name));
        let list = |name: &'static str| -> Result<Vec<String>, AwsConfigError> {
            let items: Vec<String> = required(name)?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if items.is_empty() {
                return Err(AwsConfigError::Missing(name));
            }
            Ok(items)
        };
        let assign_public_ip = match get("KILN_ASSIGN_PUBLIC_IP").as_deref() {
            None => AssignPublicIp::Disabled,
            Some(v) if v.eq_ignore_ascii_case("ENABLED") => AssignPublicIp::Enabled,
            Some(v) if v.eq_ignore_ascii_case("DISABLED") => AssignPublicIp::Disabled,
            Some(other) => {
                return Err(AwsConfigError::Invalid {
                    name: "KILN_ASSIGN_PUBLIC_IP",
                    reason: format!("{other:?} is neither ENABLED nor DISABLED"),
                });
            }
        };
        let state_bucket = required("KILN_STATE_BUCKET")?;
        if state_bucket.contains('/') || state_bucket.starts_with("s3:") {
            return Err(AwsConfigError::Invalid {
                name: "KILN_STATE_BUCKET",
                reason: "a bucket name, not an s3:// url or a path".to_owned(),
            });
        }
        Ok(Self {
            state_bucket,
            cluster: required("KILN_CLUSTER")?,
            subnets: list("KILN_SUBNETS")?,
            security_groups: list("KILN_SECURITY_GROUPS")?,
            assign_public_ip,
            execution_role_arn: required("KILN_EXECUTION_ROLE_ARN")?,
            task_role_arn: required("KILN_TASK_ROLE_ARN")?,
            untrusted_task_role_arn: required("KILN_UNTRUSTED_TASK_ROLE_ARN")?,
            log_group: required("KILN_LOG_GROUP")?,
            init_image: get("KILN_INIT_IMAGE").unwrap_or_else(|| DEFAULT_INIT_IMAGE.to_owned()),
        })
    }

    /// The task role for a build: the trusted one when it may read secrets, the untrusted one
    /// otherwise.
    pub fn task_role_for(&self, with_secrets: bool) -> &str {
        if with_secrets { &self.task_role_arn } else { &self.untrusted_task_role_arn }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("KILN_STATE_BUCKET", "kiln-state"),
        ("KILN_CLUSTER", "kiln"),
        ("KILN_SUBNETS", "subnet-1, subnet-2"),
        ("KILN_SECURITY_GROUPS", "sg-1"),
        ("KILN_ASSIGN_PUBLIC_IP", "enabled"),
        ("KILN_EXECUTION_ROLE_ARN", "arn:aws:iam::1:role/exec"),
        ("KILN_TASK_ROLE_ARN", "arn:aws:iam::1:role/task"),
        ("KILN_UNTRUSTED_TASK_ROLE_ARN", "arn:aws:iam::1:role/untrusted"),
        ("KILN_LOG_GROUP", "/kiln/builds"),
    ];

    #[test]
    fn reads_every_variable() {
        let c = AwsConfig::from_lookup(env(FULL)).ok();
        let Some(c) = c else { panic!("the configuration is complete") };
        assert_eq!(c.subnets, ["subnet-1", "subnet-2"]);
        assert_eq!(c.security_groups, ["sg-1"]);
        assert_eq!(c.assign_public_ip, AssignPublicIp::Enabled);
        assert_eq!(c.init_image, DEFAULT_INIT_IMAGE);
        assert_eq!(c.task_role_for(true), "arn:aws:iam::1:role/task");
        assert_eq!(c.task_role_for(false), "arn:aws:iam::1:role/untrusted");
    }

    #[test]
    fn names_the_missing_variable() {
        for (i, (name, _)) in FULL.iter().enumerate() {
            if *name == "KILN_ASSIGN_PUBLIC_IP" {
                continue;
            }
            let mut pairs = FULL.to_vec();
            pairs.remove(i);
            let e = AwsConfig::from_lookup(env(&pairs)).err();
            assert_eq!(
                e.map(|e| e.to_string()),
                Some(format!("read {name}: the variable is not set"))
            );
        }
    }

    #[test]
    fn refuses_wrong_values() {
        let mut pairs = FULL.to_vec();
        pairs[4] = ("KILN_ASSIGN_PUBLIC_IP", "yes");
        let e = AwsConfig::from_lookup(env(&pairs)).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("read KILN_ASSIGN_PUBLIC_IP: \"yes\" is neither ENABLED nor DISABLED")
        );
        let mut pairs = FULL.to_vec();
        pairs[2] = ("KILN_SUBNETS", " , ");
        let e = AwsConfig::from_lookup(env(&pairs)).err();
        assert_eq!(e, Some(AwsConfigError::Missing("KILN_SUBNETS")));
        let mut pairs = FULL.to_vec();
        pairs[0] = ("KILN_STATE_BUCKET", "s3://kiln-state");
        let e = AwsConfig::from_lookup(env(&pairs)).err();
        assert!(matches!(e, Some(AwsConfigError::Invalid { name: "KILN_STATE_BUCKET", .. })));
    }
}
