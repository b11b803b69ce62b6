//! `AwsSecretStore`: the [`SecretStore`] port over SSM Parameter Store (`GetParameter` with
//! decryption, so `SecureString`s come back in clear) and Secrets Manager (`GetSecretValue` at
//! a version stage or id). Values never reach an error: errors name the parameter or secret
//! and the service's code.

use aws_sdk_secretsmanager::Client as SecretsClient;
use aws_sdk_ssm::Client as SsmClient;
use kiln_core::ports::{PortError, PortErrorKind, PortFuture, SecretStore};

use crate::error::port_error;

/// Secrets from SSM Parameter Store and Secrets Manager.
#[derive(Debug, Clone)]
pub struct AwsSecretStore {
    ssm: crate::LazyClient<SsmClient>,
    secrets: crate::LazyClient<SecretsClient>,
}

impl AwsSecretStore {
    /// A store over the clients of `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        let ssm = crate::LazyClient::new(sdk, SsmClient::new);
        Self { ssm, secrets: crate::LazyClient::new(sdk, SecretsClient::new) }
    }

    /// A store over these clients.
    pub fn from_clients(ssm: SsmClient, secrets: SecretsClient) -> Self {
        Self { ssm: crate::LazyClient::ready(ssm), secrets: crate::LazyClient::ready(secrets) }
    }

    async fn parameter(&self, name: &str) -> Result<String, PortError> {
        let op = || format!("get parameter {name}");
        let output = self
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| port_error(op(), e))?;
        output
            .parameter()
            .and_then(|p| p.value())
            .map(str::to_owned)
            .ok_or_else(|| PortError::new(PortErrorKind::NotFound, format!("{}: no value", op())))
    }

    async fn secret(
        &self,
        secret_id: &str,
        version_stage: Option<&str>,
        version_id: Option<&str>,
    ) -> Result<String, PortError> {
        let op = || {
            let mut op = format!("get secret {secret_id}");
            if let Some(stage) = version_stage {
                op.push_str(&format!(" at stage {stage}"));
            }
            if let Some(id) = version_id {
                op.push_str(&format!(" at version {id}"));
            }
            op
        };
        let output = self
            .secrets
            .get_secret_value()
            .secret_id(secret_id)
            .set_version_stage(version_stage.map(str::to_owned))
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| port_error(op(), e))?;
        if let Some(text) = output.secret_string() {
            return Ok(text.to_owned());
        }
        if let Some(binary) = output.secret_binary() {
            return String::from_utf8(binary.as_ref().to_vec()).map_err(|_| {
                PortError::new(
                    PortErrorKind::Permanent,
                    format!("{}: the secret is binary, not text", op()),
                )
            });
        }
        Err(PortError::new(PortErrorKind::NotFound, format!("{}: no value", op())))
    }
}

impl SecretStore for AwsSecretStore {
    fn get_parameter<'a>(&'a self, name: &'a str) -> PortFuture<'a, String> {
        Box::pin(self.parameter(name))
    }

    fn get_secret<'a>(
        &'a self,
        secret_id: &'a str,
        version_stage: Option<&'a str>,
        version_id: Option<&'a str>,
    ) -> PortFuture<'a, String> {
        Box::pin(self.secret(secret_id, version_stage, version_id))
    }
}
