//! What a launcher hands a build's task, and how the task's agent takes it: the build
//! description and, with a GitHub App, the credential that fetches the source. Both go through
//! the state bucket, so nothing in the task definition, the task's command or its environment
//! (what `DescribeTasks` shows anyone allowed to call it) is a secret or a credential.
//!
//! - **The description** is written to `s3://<state bucket>/builds/<project>/<n>/description.json`
//!   before RunTask; the build container's command is `--description s3://…`.
//! - **The source token** (a GitHub App's installation token for the one repository, `contents:
//!   read`, expiring within the hour) is written to a one-use object,
//!   `builds/<project>/<n>/source-token-<nonce>` (128 random bits), named by
//!   `--source-token s3://…` in the command. The agent reads it and deletes it before the build
//!   starts, and drops it (its memory zeroed) as soon as the source is fetched, before the first
//!   command of the buildspec. With a personal access token, or no credential at all, nothing
//!   is written and the command has no `--source-token`: a PAT never leaves the functions.
//!
//! Why an S3 object [choice]: the container's environment (plain or ECS `secrets`) would reach
//! the agent's `/proc/1/environ`, which the build's own commands (root in the same container)
//! can read for the whole build, and the token would outlive the fetch; the command line is
//! shown by `DescribeTasks`; a Secrets Manager secret per build costs a create and a delete on
//! every build for the same effect. The object is readable with the task role only: the task
//! roles need `s3:GetObject` and `s3:DeleteObject` on `builds/*/source-token-*` and should not
//! have `s3:ListBucket` on `builds/`, so a build cannot find another build's object during the
//! seconds before that build's agent deletes it (the nonce is only in that task's command).
//! A launcher whose RunTask fails deletes the object itself; one never read (a task that
//! failed to start) holds a token that expires within the hour, and a lifecycle rule on the
//! prefix can remove it.

use std::fmt;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use kiln_core::build::{BuildDescription, BuildRef, DescriptionError, layout};
use kiln_core::ports::{PortError, PortErrorKind};
use secrecy::{ExposeSecret, SecretString};

use crate::error::port_error;

/// The largest description the agent reads.
pub const MAX_DESCRIPTION_BYTES: i64 = 16 << 20;
/// The largest source token the agent reads (GitHub's tokens are under 100 bytes).
const MAX_TOKEN_BYTES: i64 = 16 << 10;

/// An object's location, `s3://BUCKET/KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
}

/// Why a text is not an `s3://BUCKET/KEY` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("read {0:?} as s3://BUCKET/KEY")]
pub struct S3UrlError(String);

impl S3Url {
    /// `s3://BUCKET/KEY`, with a bucket and a key that are not empty.
    ///
    /// # Errors
    /// [`S3UrlError`] for anything else.
    pub fn parse(text: &str) -> Result<Self, S3UrlError> {
        let rest = text.strip_prefix("s3://").ok_or_else(|| S3UrlError(text.to_owned()))?;
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok(Self { bucket: bucket.to_owned(), key: key.to_owned() })
            }
            _ => Err(S3UrlError(text.to_owned())),
        }
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Why the agent could not read its description.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    /// The object could not be read.
    #[error("read the build description {0}")]
    Read(S3Url, #[source] PortError),
    /// The object is not a description.
    #[error("read the build description {0}")]
    Description(S3Url, #[source] DescriptionError),
}

/// Reads the whole object at `url`, refusing one larger than `limit` bytes.
async fn read_object(client: &Client, url: &S3Url, limit: i64) -> Result<Vec<u8>, PortError> {
    let op = || format!("read {url}");
    let output = client
        .get_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .send()
        .await
        .map_err(|e| port_error(op(), e))?;
    if output.content_length().unwrap_or(0) > limit {
        let message = format!("{}: larger than {limit} bytes", op());
        return Err(PortError::new(PortErrorKind::Permanent, message));
    }
    let bytes = output.body.collect().await.map_err(|e| {
        PortError::new(PortErrorKind::Unavailable, op()).with_source(std::io::Error::other(e))
    })?;
    let bytes = bytes.into_bytes();
    if i64::try_from(bytes.len()).unwrap_or(i64::MAX) > limit {
        let message = format!("{}: larger than {limit} bytes", op());
        return Err(PortError::new(PortErrorKind::Permanent, message));
    }
    Ok(bytes.to_vec())
}

/// The build description at `url`, as [`super::EcsTaskRunner`] wrote it.
///
/// # Errors
/// [`HandoverError`] when it cannot be read or is not a description of this format.
pub async fn read_description(
    client: &Client,
    url: &S3Url,
) -> Result<BuildDescription, HandoverError> {
    let bytes = read_object(client, url, MAX_DESCRIPTION_BYTES)
        .await
        .map_err(|e| HandoverError::Read(url.clone(), e))?;
    BuildDescription::from_json(&bytes).map_err(|e| HandoverError::Description(url.clone(), e))
}

/// Reads the one-use source token at `url` and deletes it (see the module docs).
///
/// # Errors
/// A [`PortError`] when it cannot be read (`NotFound` once it was taken), is not UTF-8 text,
/// or cannot be deleted (the token is then not returned: a token left readable is not used).
pub async fn take_source_token(client: &Client, url: &S3Url) -> Result<SecretString, PortError> {
    let bytes = read_object(client, url, MAX_TOKEN_BYTES).await?;
    let token = String::from_utf8(bytes).map_err(|_| {
        PortError::new(PortErrorKind::Permanent, format!("read {url}: not UTF-8 text"))
    })?;
    let token = SecretString::from(token.trim().to_owned());
    delete(client, url).await?;
    Ok(token)
}

/// Writes `token` for `build` to a new one-use object in `bucket` and returns its location.
pub(crate) async fn put_source_token(
    client: &Client,
    bucket: &str,
    build: &BuildRef,
    token: &SecretString,
) -> Result<S3Url, PortError> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let url = S3Url { bucket: bucket.to_owned(), key: layout::source_token_key(build, &nonce) };
    client
        .put_object()
        .bucket(bucket)
        .key(&url.key)
        .content_type("text/plain")
        .if_none_match("*")
        .body(ByteStream::from(token.expose_secret().as_bytes().to_vec()))
        .send()
        .await
        .map_err(|e| port_error(format!("write {url}"), e))?;
    Ok(url)
}

/// Deletes the object at `url`.
pub(crate) async fn delete(client: &Client, url: &S3Url) -> Result<(), PortError> {
    client
        .delete_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .send()
        .await
        .map_err(|e| port_error(format!("delete {url}"), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls() {
        let url = S3Url::parse("s3://kiln-state/builds/web/7/description.json").ok();
        assert_eq!(
            url,
            Some(S3Url {
                bucket: "kiln-state".into(),
                key: "builds/web/7/description.json".into()
            })
        );
        assert_eq!(
            url.map(|u| u.to_string()).as_deref(),
            Some("s3://kiln-state/builds/web/7/description.json")
        );
        for bad in ["", "s3://", "s3://bucket", "s3://bucket/", "s3:///key", "/tmp/d.json"] {
            assert!(S3Url::parse(bad).is_err(), "{bad}");
        }
    }
}
