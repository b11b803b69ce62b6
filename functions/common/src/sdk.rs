//! The AWS SDK's configuration of a function, made from the variables Lambda sets, without the
//! SDK's loader.
//!
//! Lambda gives a function its region (`AWS_REGION`) and its role's credentials
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) in its environment,
//! and nothing else the loader (`aws_config::defaults`) would look for applies in a function:
//! no profile files, no SSO, no web identity, no instance metadata. Leaving the loader out
//! leaves its credential chain out of the binary (STS, SSO and profile parsing among it) and
//! its work out of the function's start. `AWS_ENDPOINT_URL` is still honoured (an emulator, in
//! tests). Retries and timeouts are the loader's defaults: standard retries, a 3.1 s connect
//! timeout. HTTPS trusts the roots built into kiln ([`kiln_aws::builtin_roots_http_client`]),
//! so the first AWS call of a cold start does not read and parse the system's certificates.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_types::sdk_config::SharedCredentialsProvider;

use crate::config::{ConfigError, Vars};

/// The connect timeout the SDK's loader sets.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// The SDK configuration of a function; see the module docs.
///
/// # Errors
/// [`ConfigError`] when `AWS_REGION` is not set.
pub fn sdk_config(vars: &Vars) -> Result<SdkConfig, ConfigError> {
    let region = vars.required("AWS_REGION")?;
    let credentials = EnvironmentVariableCredentialsProvider::new();
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(kiln_aws::builtin_roots_http_client())
        .retry_config(RetryConfig::standard())
        .timeout_config(TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).build());
    if let Some(url) = vars.get("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(url);
    }
    Ok(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_and_endpoint_come_from_the_variables() {
        let vars = Vars::from_pairs(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]);
        let config = sdk_config(&vars).expect("config");
        assert_eq!(config.region().map(ToString::to_string).as_deref(), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(config.credentials_provider().is_some());
        let timeouts = config.timeout_config().expect("timeouts");
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
    }

    #[test]
    fn without_a_region_it_says_which_variable_is_missing() {
        let e = sdk_config(&Vars::from_pairs(&[])).expect_err("no region");
        assert!(e.to_string().contains("AWS_REGION"), "{e}");
    }
}
