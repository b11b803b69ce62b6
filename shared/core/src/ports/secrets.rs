//! Secret values: parameter-store and secrets-manager variables.

use super::PortFuture;

/// Secret values: SSM parameters (`env.parameter-store`, project `PARAMETER_STORE` variables)
/// and Secrets Manager secrets (`env.secrets-manager`, project `SECRETS_MANAGER` variables).
///
/// Contract:
/// - both calls are reads with no side effect, safe to repeat;
/// - a missing parameter or secret fails with [`PortErrorKind::NotFound`] and an `operation`
///   that names it (never its value);
/// - `get_secret` returns the whole secret string of the version asked for (`AWSCURRENT` when
///   neither stage nor id is given); picking a JSON key out of it is the caller's job;
/// - values never reach a log, a `Debug` output or an error message.
pub trait SecretStore: Send + Sync {
    /// The value of the SSM parameter `name` (decrypted).
    fn get_parameter<'a>(&'a self, name: &'a str) -> PortFuture<'a, String>;

    /// The secret string of `secret_id` at `version_stage` or `version_id`.
    fn get_secret<'a>(
        &'a self,
        secret_id: &'a str,
        version_stage: Option<&'a str>,
        version_id: Option<&'a str>,
    ) -> PortFuture<'a, String>;
}
