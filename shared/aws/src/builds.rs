//! `S3BuildStore`: the [`BuildStore`] port in the state bucket (`KILN_STATE_BUCKET`), in the
//! layout of [`kiln_core::build::layout`] that `FsBuildStore` keeps on disk, with S3's
//! conditional writes instead of a database:
//!
//! - a number is claimed by creating `numbers/<project>/<n>` with `If-None-Match: *`: the
//!   prefix is listed once for the next candidate, and a lost race (`412`, or `409` while
//!   another conditional write of that key is under way) moves on to the next number, so no
//!   two callers ever hold one number; a number whose put failed in between is a gap;
//! - `create` writes the record under its fresh number, its `open/` marker, then claims
//!   `keys/<key>` with `If-None-Match: *`. The loser of a race on a key removes its record and
//!   marker and returns the winner's record; a key that names the caller's own build (the SDK
//!   retried a put that had arrived) is the caller's win;
//! - `update` reads the record and its ETag, compares revisions, and puts with `If-Match` on
//!   that ETag, so a writer in between makes it fail with `Conflict`;
//! - `list_open` lists `open/` and reads those records; `list_recent` lists each project's
//!   build prefixes and reads only the `limit` highest numbers of each.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use kiln_core::build::{Build, BuildRef, BuildSummary, layout, next_build_number};
use kiln_core::ports::{BuildStore, Created, PortError, PortErrorKind, PortFuture};
use tokio::task::JoinSet;

use crate::error::port_error;

/// The largest record or summary read back (a summary holds at most a few thousand test
/// cases), as `FsBuildStore`'s.
const MAX_DOCUMENT_BYTES: i64 = 64 << 20;
/// Numbers tried one after another before a claim gives up (each failed try means another
/// caller just won that number).
const CLAIM_ATTEMPTS: u32 = 1000;
/// Records read at once by the list calls.
const READS_IN_FLIGHT: usize = 8;

/// How a put is conditioned.
#[derive(Debug, Clone, Copy)]
enum Condition<'a> {
    /// Always write.
    None,
    /// `If-None-Match: *`.
    Absent,
    /// `If-Match: <etag>`.
    Matches(&'a str),
}

/// Build state in the S3 state bucket; see the module docs.
#[derive(Debug, Clone)]
pub struct S3BuildStore {
    client: crate::LazyClient<Client>,
    bucket: String,
}

impl S3BuildStore {
    /// A store in `bucket` (`KILN_STATE_BUCKET`) over the S3 client of `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        Self { client: crate::LazyClient::new(sdk, crate::s3_client), bucket: bucket.into() }
    }

    /// A store in `bucket` over `client`.
    pub fn from_client(client: Client, bucket: impl Into<String>) -> Self {
        Self { client: crate::LazyClient::ready(client), bucket: bucket.into() }
    }

    /// The state bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Option<String>)>, PortError> {
        let op = || format!("read {}/{key}", self.bucket);
        let answer = self.client.get_object().bucket(&self.bucket).key(key).send().await;
        let output = match answer {
            Ok(output) => output,
            Err(e) => {
                let e = port_error(op(), e);
                return if e.kind == PortErrorKind::NotFound { Ok(None) } else { Err(e) };
            }
        };
        if output.content_length().unwrap_or(0) > MAX_DOCUMENT_BYTES {
            return Err(PortError::new(
                PortErrorKind::Permanent,
                format!("{}: larger than {MAX_DOCUMENT_BYTES} bytes", op()),
            ));
        }
        let etag = output.e_tag().map(str::to_owned);
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| PortError::new(PortErrorKind::Unavailable, op()).with_source(e))?
            .into_bytes()
            .to_vec();
        Ok(Some((bytes, etag)))
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Condition<'_>,
    ) -> Result<(), PortError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(if key.ends_with(".json") { "application/json" } else { "text/plain" })
            .body(ByteStream::from(bytes));
        put = match condition {
            Condition::None => put,
            Condition::Absent => put.if_none_match("*"),
            Condition::Matches(etag) => put.if_match(etag),
        };
        put.send().await.map_err(|e| port_error(format!("write {}/{key}", self.bucket), e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        let answer = self.client.delete_object().bucket(&self.bucket).key(key).send().await;
        match answer.map_err(|e| port_error(format!("delete {}/{key}", self.bucket), e)) {
            Ok(_) => Ok(()),
            Err(e) if e.kind == PortErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every key under `prefix` and, with `delimiter`, the common prefixes instead of the keys
    /// beneath them (all pages).
    async fn list(
        &self,
        prefix: &str,
        delimiter: bool,
    ) -> Result<(Vec<String>, Vec<String>), PortError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.then(|| "/".to_owned()))
            .into_paginator()
            .send();
        let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| port_error(format!("list {}/{prefix}", self.bucket), e))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            prefixes.extend(
                page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_owned)),
            );
        }
        Ok((keys, prefixes))
    }

    async fn read_record(&self, at: &BuildRef) -> Result<(Build, Option<String>), PortError> {
        let key = layout::record_key(at);
        let Some((bytes, etag)) = self.get(&key).await? else {
            return Err(PortError::new(
                PortErrorKind::NotFound,
                format!("read build record {}/{key}", self.bucket),
            ));
        };
        let build = serde_json::from_slice(&bytes).map_err(|e| {
            PortError::new(
                PortErrorKind::Permanent,
                format!("read build record {}/{key}", self.bucket),
            )
            .with_source(e)
        })?;
        Ok((build, etag))
    }

    async fn put_json(
        &self,
        key: &str,
        value: &impl serde::Serialize,
        condition: Condition<'_>,
    ) -> Result<(), PortError> {
        let json = serde_json::to_vec_pretty(value).map_err(|e| {
            PortError::new(PortErrorKind::Permanent, format!("write {}/{key}", self.bucket))
                .with_source(e)
        })?;
        self.put(key, json, condition).await
    }

    async fn claim(&self, project: &str) -> Result<u64, PortError> {
        let (keys, _) = self.list(&layout::numbers_prefix(project), false).await?;
        let prefix = layout::numbers_prefix(project);
        let mut number =
            next_build_number(keys.iter().filter_map(|k| k.strip_prefix(prefix.as_str())));
        for _ in 0..CLAIM_ATTEMPTS {
            match self
                .put(&layout::number_key(project, number), Vec::new(), Condition::Absent)
                .await
            {
                Ok(()) => return Ok(number),
                Err(e) if e.kind == PortErrorKind::Conflict => number += 1,
                Err(e) => return Err(e),
            }
        }
        Err(PortError::new(
            PortErrorKind::Conflict,
            format!(
                "claim a build number of {project}: {CLAIM_ATTEMPTS} numbers in a row were taken"
            ),
        ))
    }

    async fn create_inner(&self, build: &Build) -> Result<Created, PortError> {
        let at = build.build_ref();
        let record = layout::record_key(&at);
        let mut stored = build.clone();
        stored.revision = 1;
        self.put_json(&record, &stored, Condition::None).await?;
        let open = layout::open_key(&at);
        if !stored.state.is_terminal() {
            self.put(&open, Vec::new(), Condition::None).await?;
        }
        let key = layout::idempotency_key(&build.idempotency_key);
        let value = format!("{}/{}\n", at.project, at.number).into_bytes();
        match self.put(&key, value, Condition::Absent).await {
            Ok(()) => return Ok(Created::New(stored)),
            Err(e) if e.kind == PortErrorKind::Conflict => {}
            Err(e) => return Err(e),
        }
        let holder = self.key_holder(&build.idempotency_key).await?;
        if holder.as_ref() == Some(&at) {
            return Ok(Created::New(stored));
        }
        self.delete(&open).await?;
        self.delete(&record).await?;
        match holder {
            Some(first) => Ok(Created::Existing(self.read_record(&first).await?.0)),
            None => Err(PortError::new(
                PortErrorKind::Conflict,
                format!("create build {at}: its key is being claimed"),
            )),
        }
    }

    /// The build `keys/<key>` names, if the key is claimed.
    async fn key_holder(&self, key: &str) -> Result<Option<BuildRef>, PortError> {
        let Some((bytes, _)) = self.get(&layout::idempotency_key(key)).await? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        layout::parse_build_ref(&text).map(Some).ok_or_else(|| {
            PortError::new(PortErrorKind::Permanent, format!("key {key} names no build"))
        })
    }

    async fn find_inner(&self, key: &str) -> Result<Option<Build>, PortError> {
        match self.key_holder(key).await? {
            // The winner of a key writes its record before the key, so the record is there.
            Some(at) => Ok(Some(self.read_record(&at).await?.0)),
            None => Ok(None),
        }
    }

    async fn update_inner(&self, build: &Build) -> Result<Build, PortError> {
        let at = build.build_ref();
        let (current, etag) = self.read_record(&at).await?;
        if current.revision != build.revision {
            return Err(PortError::new(
                PortErrorKind::Conflict,
                format!(
                    "update build {at}: revision {} is stored, not {}",
                    current.revision, build.revision
                ),
            ));
        }
        let Some(etag) = etag else {
            return Err(PortError::new(
                PortErrorKind::Unavailable,
                format!("update build {at}: s3 gave the record no etag"),
            ));
        };
        let mut stored = build.clone();
        stored.revision = build.revision + 1;
        self.put_json(&layout::record_key(&at), &stored, Condition::Matches(&etag)).await.map_err(
            |e| match e.kind {
                PortErrorKind::Conflict => PortError::new(
                    PortErrorKind::Conflict,
                    format!("update build {at}: the record changed meanwhile"),
                )
                .with_source(e),
                _ => e,
            },
        )?;
        if stored.state.is_terminal() {
            self.delete(&layout::open_key(&at)).await?;
        }
        Ok(stored)
    }

    /// The records of `refs` that exist, read a few at a time.
    async fn read_all(&self, refs: Vec<BuildRef>) -> Result<Vec<Build>, PortError> {
        let mut out = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(READS_IN_FLIGHT) {
            let mut reads = JoinSet::new();
            for at in chunk {
                let at = at.clone();
                let store = self.clone();
                reads.spawn(async move { store.read_record(&at).await });
            }
            while let Some(joined) = reads.join_next().await {
                let read = joined.map_err(|e| {
                    PortError::new(PortErrorKind::Unavailable, "read build records").with_source(e)
                })?;
                match read {
                    Ok((build, _)) => out.push(build),
                    Err(e) if e.kind == PortErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    async fn list_open_inner(&self) -> Result<Vec<Build>, PortError> {
        let (keys, _) = self.list("open/", false).await?;
        let refs = keys.iter().filter_map(|k| layout::parse_build_ref(k)).collect();
        let mut open: Vec<Build> =
            self.read_all(refs).await?.into_iter().filter(|b| !b.state.is_terminal()).collect();
        open.sort_by(|a, b| {
            a.start_time.cmp(&b.start_time).then(a.identity.number.cmp(&b.identity.number))
        });
        Ok(open)
    }

    async fn list_recent_inner(
        &self,
        project: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Build>, PortError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let projects = match project {
            Some(p) => vec![p.to_owned()],
            None => {
                let (_, prefixes) = self.list("builds/", true).await?;
                prefixes
                    .iter()
                    .filter_map(|p| p.strip_prefix("builds/")?.strip_suffix('/').map(str::to_owned))
                    .collect()
            }
        };
        let mut refs = Vec::new();
        for p in projects {
            let (_, prefixes) = self.list(&format!("builds/{p}/"), true).await?;
            let mut numbered: Vec<BuildRef> = prefixes
                .iter()
                .filter_map(|prefix| {
                    let rest = prefix.strip_prefix("builds/")?.strip_suffix('/')?;
                    layout::parse_build_ref(rest)
                })
                .collect();
            numbered.sort_by_key(|b| std::cmp::Reverse(b.number));
            numbered.truncate(limit);
            refs.extend(numbered);
        }
        let mut builds = self.read_all(refs).await?;
        builds.sort_by(|a, b| {
            b.start_time.cmp(&a.start_time).then_with(|| b.identity.number.cmp(&a.identity.number))
        });
        builds.truncate(limit);
        Ok(builds)
    }

    async fn get_summary_inner(&self, at: &BuildRef) -> Result<Option<BuildSummary>, PortError> {
        let key = layout::summary_key(at);
        let Some((bytes, _)) = self.get(&key).await? else { return Ok(None) };
        BuildSummary::from_json(&bytes).map(Some).map_err(|e| {
            PortError::new(PortErrorKind::Permanent, format!("read {}/{key}", self.bucket))
                .with_source(e)
        })
    }
}

impl BuildStore for S3BuildStore {
    fn claim_number<'a>(&'a self, project: &'a str) -> PortFuture<'a, u64> {
        Box::pin(self.claim(project))
    }

    fn create<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Created> {
        Box::pin(self.create_inner(build))
    }

    fn find<'a>(&'a self, key: &'a str) -> PortFuture<'a, Option<Build>> {
        Box::pin(self.find_inner(key))
    }

    fn read<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Build> {
        Box::pin(async move { Ok(self.read_record(build).await?.0) })
    }

    fn update<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Build> {
        Box::pin(self.update_inner(build))
    }

    fn list_open<'a>(&'a self) -> PortFuture<'a, Vec<Build>> {
        Box::pin(self.list_open_inner())
    }

    fn list_recent<'a>(
        &'a self,
        project: Option<&'a str>,
        limit: usize,
    ) -> PortFuture<'a, Vec<Build>> {
        Box::pin(self.list_recent_inner(project, limit))
    }

    fn put_summary<'a>(
        &'a self,
        build: &'a BuildRef,
        summary: &'a BuildSummary,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let key = layout::summary_key(build);
            let json = summary.to_json().map_err(|e| {
                PortError::new(PortErrorKind::Permanent, format!("write {}/{key}", self.bucket))
                    .with_source(e)
            })?;
            self.put(&key, json.into_bytes(), Condition::None).await
        })
    }

    fn get_summary<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Option<BuildSummary>> {
        Box::pin(self.get_summary_inner(build))
    }
}
