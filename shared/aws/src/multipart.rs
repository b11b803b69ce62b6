//! One multipart upload of a file: parts streamed from the file at their offsets, a bounded
//! number in flight, each with its CRC32 (the upload is created with that checksum algorithm,
//! so S3 checks every part and the whole), completed in part order, and aborted on any
//! failure so no orphaned parts stay behind.

use std::collections::HashMap;
use std::path::PathBuf;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use kiln_core::ports::{PortError, PortErrorKind};
use tokio::task::JoinSet;

use crate::error::port_error;
use crate::objects::Multipart;

/// S3's smallest part (all but the last).
const MIN_PART: u64 = 5 << 20;
/// S3's largest number of parts.
const MAX_PARTS: u64 = 10_000;

/// A file to upload in parts.
#[derive(Debug)]
pub(crate) struct Upload {
    pub client: Client,
    pub bucket: String,
    pub key: String,
    pub path: PathBuf,
    pub size: u64,
    pub settings: Multipart,
}

/// The size of every part but the last, for a file of `size` bytes.
pub(crate) fn part_size(size: u64, wanted: u64) -> u64 {
    let least = size.div_ceil(MAX_PARTS);
    let part = wanted.max(least).max(MIN_PART);
    part.div_ceil(1 << 20) * (1 << 20)
}

impl Upload {
    fn op(&self) -> String {
        format!("put object {}/{} from {}", self.bucket, self.key, self.path.display())
    }

    /// Uploads the file; with `if_absent`, completes only when no object has the key.
    pub(crate) async fn run(
        self,
        metadata: Option<HashMap<String, String>>,
        if_absent: bool,
    ) -> Result<(), PortError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_metadata(metadata)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(|e| port_error(self.op(), e))?;
        let upload_id = created.upload_id().map(str::to_owned).ok_or_else(|| {
            PortError::new(PortErrorKind::Unavailable, format!("{}: no upload id", self.op()))
        })?;
        let result = match self.parts(&upload_id).await {
            Ok(parts) => self.complete(&upload_id, parts, if_absent).await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            let aborted = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(&upload_id)
                .send()
                .await;
            if let Err(e) = aborted {
                let e = port_error(format!("abort upload {upload_id}"), e);
                tracing::warn!(error = %kiln_core::error_chain(&e), "a failed upload's parts stay until the bucket's lifecycle rule removes them");
            }
        }
        result
    }

    async fn parts(&self, upload_id: &str) -> Result<Vec<CompletedPart>, PortError> {
        let part = part_size(self.size, self.settings.part_size);
        let count = self.size.div_ceil(part).max(1);
        let in_flight = self.settings.concurrency.max(1);
        let mut running = JoinSet::new();
        let mut done = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut next = 0u64;
        while next < count || !running.is_empty() {
            while next < count && running.len() < in_flight {
                let offset = next * part;
                let length = part.min(self.size - offset);
                let number = i32::try_from(next + 1).unwrap_or(i32::MAX);
                running.spawn(self.part(upload_id.to_owned(), number, offset, length));
                next += 1;
            }
            if let Some(joined) = running.join_next().await {
                let finished = joined
                    .map_err(|e| {
                        PortError::new(PortErrorKind::Unavailable, self.op()).with_source(e)
                    })
                    .and_then(|r| r);
                match finished {
                    Ok(part) => done.push(part),
                    Err(e) => {
                        running.abort_all();
                        return Err(e);
                    }
                }
            }
        }
        done.sort_by_key(|p| p.part_number());
        Ok(done)
    }

    fn part(
        &self,
        upload_id: String,
        number: i32,
        offset: u64,
        length: u64,
    ) -> impl Future<Output = Result<CompletedPart, PortError>> + Send + 'static {
        let client = self.client.clone();
        let (bucket, key, path) = (self.bucket.clone(), self.key.clone(), self.path.clone());
        let op = format!("{} (part {number})", self.op());
        async move {
            let body = ByteStream::read_from()
                .path(&path)
                .offset(offset)
                .length(Length::Exact(length))
                .buffer_size(256 << 10)
                .build()
                .await
                .map_err(|e| PortError::new(PortErrorKind::Permanent, op.clone()).with_source(e))?;
            let sent = client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .body(body)
                .send()
                .await
                .map_err(|e| port_error(op.clone(), e))?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(sent.e_tag().map(str::to_owned))
                .set_checksum_crc32(sent.checksum_crc32().map(str::to_owned))
                .build())
        }
    }

    async fn complete(
        &self,
        upload_id: &str,
        parts: Vec<CompletedPart>,
        if_absent: bool,
    ) -> Result<(), PortError> {
        let mut complete = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build());
        if if_absent {
            complete = complete.if_none_match("*");
        }
        complete.send().await.map_err(|e| port_error(self.op(), e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_stay_within_s3_limits() {
        assert_eq!(part_size(20 << 20, 16 << 20), 16 << 20);
        assert_eq!(part_size(20 << 20, 1 << 20), MIN_PART);
        let huge = 500u64 << 30;
        let part = part_size(huge, 16 << 20);
        assert!(huge.div_ceil(part) <= MAX_PARTS);
        assert_eq!(part % (1 << 20), 0);
    }
}
