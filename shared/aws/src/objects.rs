//! `S3ObjectStore`: the [`ObjectStore`] port over Amazon S3.
//!
//! - small objects are one `PutObject`; a file of [`Multipart::threshold`] bytes or more is a
//!   multipart upload whose parts stream from the file, [`Multipart::concurrency`] at a time,
//!   aborted when any part or the completion fails (so no parts are left billed);
//! - [`PutOptions::if_absent`] is `If-None-Match: *` on the put (or on
//!   `CompleteMultipartUpload`): S3 decides atomically, and a loser fails with `Conflict`;
//! - metadata travels as `x-amz-meta-*` headers (S3 lowercases their names);
//! - `get_file` streams the body into a temporary file beside `dest` and renames it into place
//!   once every byte arrived, so a failure never leaves a partial file;
//! - `list` reads every page of `ListObjectsV2`, then each object's metadata with `HeadObject`
//!   (a listing does not carry it), a few at a time;
//! - [`S3ObjectStore::presign_get`] makes the signed links the build pages hand out.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use kiln_core::ports::{ObjectInfo, ObjectStore, PortError, PortErrorKind, PortFuture, PutOptions};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

use crate::error::port_error;

/// How large files are uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Multipart {
    /// Files of this many bytes or more go up in parts (16 MiB).
    pub threshold: u64,
    /// The size of each part but the last (16 MiB; raised for files of more than 10,000
    /// parts, S3's limit; at least 5 MiB, S3's smallest part).
    pub part_size: u64,
    /// Parts in flight at once (8).
    pub concurrency: usize,
}

impl Default for Multipart {
    fn default() -> Self {
        Self { threshold: 16 << 20, part_size: 16 << 20, concurrency: 8 }
    }
}

/// Objects whose metadata `list` reads at once.
const HEADS_IN_FLIGHT: usize = 8;

/// Objects in S3 buckets; see the module docs.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    multipart: Multipart,
    page_size: Option<i32>,
}

impl S3ObjectStore {
    /// A store over the S3 client of `sdk` ([`crate::s3_client`]).
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self::from_client(crate::s3_client(sdk))
    }

    /// A store over `client`.
    pub fn from_client(client: Client) -> Self {
        Self { client, multipart: Multipart::default(), page_size: None }
    }

    /// The same store with other multipart settings.
    #[must_use]
    pub fn with_multipart(mut self, multipart: Multipart) -> Self {
        self.multipart = multipart;
        self
    }

    /// The same store listing `page_size` keys a request (S3's default and largest is 1000).
    #[must_use]
    pub fn with_page_size(mut self, page_size: i32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// The S3 client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A link that lets anyone holding it `GET` `bucket/key` until `expires` from now (at most
    /// seven days, S3's limit; a link made with temporary credentials ends with them).
    ///
    /// # Errors
    /// `Permanent` when `expires` is out of S3's range or the link cannot be signed.
    pub async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires: Duration,
    ) -> Result<String, PortError> {
        let op = || format!("sign a link to {bucket}/{key}");
        let config = PresigningConfig::expires_in(expires)
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| port_error(op(), e))?;
        Ok(request.uri().to_owned())
    }

    async fn put_stream(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        options: &PutOptions,
    ) -> Result<(), PortError> {
        let mut put = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .set_metadata(metadata_of(options));
        if options.if_absent {
            put = put.if_none_match("*");
        }
        put.send().await.map_err(|e| port_error(format!("put object {bucket}/{key}"), e))?;
        Ok(())
    }

    async fn put_file_inner(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        options: &PutOptions,
    ) -> Result<(), PortError> {
        let op = || format!("put object {bucket}/{key} from {}", path.display());
        let size = tokio::fs::metadata(path).await.map_err(|e| io_error(op(), e))?.len();
        if size < self.multipart.threshold {
            let body = ByteStream::read_from()
                .path(path)
                .buffer_size(256 << 10)
                .build()
                .await
                .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
            return self.put_stream(bucket, key, body, options).await;
        }
        let upload = crate::multipart::Upload {
            client: self.client.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            path: path.to_path_buf(),
            size,
            settings: self.multipart,
        };
        upload.run(metadata_of(options), options.if_absent).await
    }

    async fn get_file_inner(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
    ) -> Result<ObjectInfo, PortError> {
        let op = || format!("get object {bucket}/{key}");
        let output = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| port_error(op(), e))?;
        let expected = output.content_length().and_then(|n| u64::try_from(n).ok());
        let mut info = ObjectInfo {
            key: key.to_owned(),
            size: expected.unwrap_or(0),
            last_modified_ms: millis(output.last_modified()),
            metadata: sorted(output.metadata()),
        };
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let write_op = || format!("get object {bucket}/{key} into {}", dest.display());
        let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(write_op(), e))?;
        let file = tmp.reopen().map_err(|e| io_error(write_op(), e))?;
        let mut out = tokio::fs::File::from_std(file);
        let mut body = output.body.into_async_read();
        let copied = tokio::io::copy(&mut body, &mut out)
            .await
            .map_err(|e| PortError::new(PortErrorKind::Unavailable, op()).with_source(e))?;
        out.flush().await.map_err(|e| io_error(write_op(), e))?;
        drop(out);
        if let Some(expected) = expected.filter(|n| *n != copied) {
            return Err(PortError::new(
                PortErrorKind::Unavailable,
                format!("{}: {copied} of {expected} bytes arrived", op()),
            ));
        }
        info.size = copied;
        tmp.persist(dest).map_err(|e| io_error(write_op(), e.error))?;
        Ok(info)
    }

    async fn head_inner(&self, bucket: &str, key: &str) -> Result<ObjectInfo, PortError> {
        let output = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| port_error(format!("head object {bucket}/{key}"), e))?;
        Ok(ObjectInfo {
            key: key.to_owned(),
            size: output.content_length().map_or(0, |n| u64::try_from(n).unwrap_or(0)),
            last_modified_ms: millis(output.last_modified()),
            metadata: sorted(output.metadata()),
        })
    }

    async fn list_inner(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, PortError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_max_keys(self.page_size)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| port_error(format!("list objects {bucket}/{prefix}"), e))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        keys.sort_unstable();
        keys.dedup();
        let mut infos = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(HEADS_IN_FLIGHT) {
            let mut heads = JoinSet::new();
            for (i, key) in chunk.iter().enumerate() {
                let store = self.clone();
                let (bucket, key) = (bucket.to_owned(), key.clone());
                heads.spawn(async move { (i, store.head_inner(&bucket, &key).await) });
            }
            let mut got: Vec<(usize, ObjectInfo)> = Vec::with_capacity(chunk.len());
            while let Some(joined) = heads.join_next().await {
                let (i, result) = joined.map_err(|e| {
                    PortError::new(
                        PortErrorKind::Unavailable,
                        format!("list objects {bucket}/{prefix}"),
                    )
                    .with_source(e)
                })?;
                match result {
                    Ok(info) => got.push((i, info)),
                    // Deleted since it was listed: as if listed a moment later.
                    Err(e) if e.kind == PortErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            got.sort_by_key(|(i, _)| *i);
            infos.extend(got.into_iter().map(|(_, info)| info));
        }
        Ok(infos)
    }
}

/// `x-amz-meta-*` headers for `options`, or none.
fn metadata_of(options: &PutOptions) -> Option<HashMap<String, String>> {
    (!options.metadata.is_empty())
        .then(|| options.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn sorted(metadata: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    metadata.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

fn millis(time: Option<&DateTime>) -> i64 {
    time.and_then(|t| t.to_millis().ok()).unwrap_or(0)
}

/// A local file error while doing `operation`.
pub(crate) fn io_error(operation: String, e: std::io::Error) -> PortError {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => PortErrorKind::NotFound,
        std::io::ErrorKind::Interrupted | std::io::ErrorKind::TimedOut => {
            PortErrorKind::Unavailable
        }
        _ => PortErrorKind::Permanent,
    };
    PortError::new(kind, operation).with_source(e)
}

impl ObjectStore for S3ObjectStore {
    fn put_file<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        path: &'a Path,
        options: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Box::pin(self.put_file_inner(bucket, key, path, options))
    }

    fn put_bytes<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        bytes: Vec<u8>,
        options: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Box::pin(self.put_stream(bucket, key, ByteStream::from(bytes), options))
    }

    fn get_file<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        dest: &'a Path,
    ) -> PortFuture<'a, ObjectInfo> {
        Box::pin(self.get_file_inner(bucket, key, dest))
    }

    fn head<'a>(&'a self, bucket: &'a str, key: &'a str) -> PortFuture<'a, ObjectInfo> {
        Box::pin(self.head_inner(bucket, key))
    }

    fn list<'a>(&'a self, bucket: &'a str, prefix: &'a str) -> PortFuture<'a, Vec<ObjectInfo>> {
        Box::pin(self.list_inner(bucket, prefix))
    }
}
