//! `S3LogArchive`: the [`LogArchive`] port in the state bucket: a build's log is the object
//! `builds/<project>/<n>/build.log` (`text/plain`), the relay's mark its user metadata
//! `kiln-relay` (compact JSON), the version its ETag. A write is one `PutObject` with
//! `If-None-Match: *` (the first) or `If-Match: <etag>` (the next), so text and mark change
//! together and a writer in between makes it fail with `Conflict`.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use kiln_core::build::{BuildRef, layout};
use kiln_core::logs::RelayMark;
use kiln_core::ports::{ArchivedLog, LogArchive, PortError, PortErrorKind, PortFuture};

use crate::error::port_error;

/// The user metadata key of the relay's mark.
const MARK_KEY: &str = "kiln-relay";
/// The largest archive read back into memory (a Lambda function has little more).
const MAX_ARCHIVE_BYTES: i64 = 256 << 20;

/// Build logs in the S3 state bucket; see the module docs.
#[derive(Debug, Clone)]
pub struct S3LogArchive {
    client: crate::LazyClient<Client>,
    bucket: String,
}

impl S3LogArchive {
    /// An archive in `bucket` (`KILN_STATE_BUCKET`) over the S3 client of `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        Self { client: crate::LazyClient::new(sdk, crate::s3_client), bucket: bucket.into() }
    }

    async fn read_inner(&self, build: &BuildRef) -> Result<Option<ArchivedLog>, PortError> {
        let key = layout::log_key(build);
        let op = || format!("read {}/{key}", self.bucket);
        let output = match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
            Ok(output) => output,
            Err(e) => {
                let e = port_error(op(), e);
                return if e.kind == PortErrorKind::NotFound { Ok(None) } else { Err(e) };
            }
        };
        if output.content_length().unwrap_or(0) > MAX_ARCHIVE_BYTES {
            return Err(PortError::new(
                PortErrorKind::Permanent,
                format!("{}: larger than {MAX_ARCHIVE_BYTES} bytes", op()),
            ));
        }
        let version = output.e_tag().unwrap_or_default().to_owned();
        let mark = output
            .metadata()
            .and_then(|m| m.get(MARK_KEY))
            .map(|json| RelayMark::from_json(json))
            .unwrap_or_default();
        let text = output
            .body
            .collect()
            .await
            .map_err(|e| PortError::new(PortErrorKind::Unavailable, op()).with_source(e))?
            .into_bytes()
            .to_vec();
        Ok(Some(ArchivedLog { text, mark, version }))
    }

    async fn write_inner(
        &self,
        build: &BuildRef,
        text: Vec<u8>,
        mark: &RelayMark,
        replacing: Option<&str>,
    ) -> Result<(), PortError> {
        let key = layout::log_key(build);
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("text/plain; charset=utf-8")
            .metadata(MARK_KEY, mark.to_json())
            .body(ByteStream::from(text));
        let put = match replacing {
            None => put.if_none_match("*"),
            Some(etag) => put.if_match(etag),
        };
        put.send().await.map_err(|e| port_error(format!("write {}/{key}", self.bucket), e))?;
        Ok(())
    }
}

impl LogArchive for S3LogArchive {
    fn read<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Option<ArchivedLog>> {
        Box::pin(self.read_inner(build))
    }

    fn write<'a>(
        &'a self,
        build: &'a BuildRef,
        text: Vec<u8>,
        mark: &'a RelayMark,
        replacing: Option<&'a str>,
    ) -> PortFuture<'a, ()> {
        Box::pin(self.write_inner(build, text, mark, replacing))
    }
}
