//! The agent as a Fargate task's build container runs it: the description from the state
//! bucket (`--description s3://…`), objects through `S3ObjectStore`, the summary through
//! `S3BuildStore` in the description's bucket (the state bucket, at the layout's summary key),
//! secrets through `AwsSecretStore` only when the build may read them, and the source token
//! taken from its one-use object (`--source-token s3://…`, read and deleted here, before the
//! build starts; see `kiln_aws::ecs::handover`). The AWS SDK is configured the standard way:
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, the task role's container credentials.
//!
//! A token that cannot be taken (already taken, denied, unreadable) is not fatal: the agent
//! says so on stderr and fetches without one, so a public repository still builds and a
//! private one fails in DOWNLOAD_SOURCE with the reason in the log and a summary.

use kiln_agent::source::FetchCredential;
use kiln_aws::ecs::{HandoverError, read_description, take_source_token};
use kiln_aws::{AwsSecretStore, S3BuildStore, S3ObjectStore, S3Url};
use kiln_core::ports::SecretStore;
use kiln_local::FileSecretStore;

use crate::wiring::Wired;

/// The build of the description at `description`, with the token at `source_token`.
///
/// # Errors
/// [`HandoverError`] when the description cannot be read.
pub async fn wire(url: &S3Url, source_token: Option<&S3Url>) -> Result<Wired, HandoverError> {
    let sdk = kiln_aws::load_sdk_config().await;
    let s3 = kiln_aws::s3_client(&sdk);
    let token = match source_token {
        Some(url) => match take_source_token(&s3, url).await {
            Ok(token) => Some(token),
            Err(e) => {
                eprintln!(
                    "kiln-agent: warning: fetching the source without a token: take the source token: {}",
                    kiln_core::error_chain(&e)
                );
                None
            }
        },
        None => None,
    };
    let credential = FetchCredential::new(token);
    let description = read_description(&s3, url).await?;
    let secrets: Box<dyn SecretStore> = if description.with_secrets {
        Box::new(AwsSecretStore::new(&sdk))
    } else {
        Box::new(FileSecretStore::empty())
    };
    Ok(Wired {
        builds: Box::new(S3BuildStore::from_client(s3.clone(), url.bucket.clone())),
        store: Box::new(S3ObjectStore::from_client(s3)),
        secrets,
        description,
        credential,
    })
}
