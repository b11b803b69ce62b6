//! `FsObjectStore`: the [`ObjectStore`] port as files under a data directory.
//!
//! Layout (the same keys S3 would hold):
//! - objects at `DATA_DIR/s3/<bucket>/<key>`, so that tree holds exactly the objects S3 would;
//! - their metadata at `DATA_DIR/s3-meta/<bucket>/<key>.json` (`{"metadata": {...}}`);
//! - writes in progress at `DATA_DIR/s3-tmp/`, renamed into place when complete, so a reader
//!   sees the old object or the new one, never a part.
//!
//! A put with `if_absent` links the finished file into place with a no-clobber rename, so two
//! racing writers cannot both win. Metadata is written after the object: a reader racing a
//! replacing put may briefly see the new object with the old metadata.
//!
//! Keys a file system cannot hold as S3 does (an empty segment, `.` or `..`, a trailing `/`, or
//! one key that is a prefix directory of another) fail with `Permanent`.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use kiln_core::ports::{ObjectInfo, ObjectStore, PortError, PortErrorKind, PortFuture, PutOptions};
use serde::{Deserialize, Serialize};

/// Objects on disk under a data directory; see the module docs for the layout.
#[derive(Debug, Clone)]
pub struct FsObjectStore {
    root: PathBuf,
}

/// The metadata file stored beside each object.
#[derive(Debug, Default, Serialize, Deserialize)]
struct MetaFile {
    metadata: BTreeMap<String, String>,
}

impl FsObjectStore {
    /// A store keeping its objects under `data_dir` (`.kiln` by default for `kiln run`).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self { root: data_dir.into() }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.root
    }

    /// Where the object `bucket/key` lives (whether or not it exists).
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.join("s3").join(bucket).join(key)
    }

    /// Where the metadata of `bucket/key` lives (whether or not it exists).
    pub fn meta_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.join("s3-meta").join(bucket).join(format!("{key}.json"))
    }

    fn put_sync(
        &self,
        bucket: &str,
        key: &str,
        fill: impl FnOnce(&mut fs::File) -> io::Result<()>,
        options: &PutOptions,
    ) -> Result<(), PortError> {
        let op = || format!("put object {bucket}/{key}");
        check_name(bucket, key)
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        let tmp_dir = self.root.join("s3-tmp");
        fs::create_dir_all(&tmp_dir).map_err(|e| io_error(op(), e))?;
        let dest = self.object_path(bucket, key);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error(op(), e))?;
        }
        if dest.is_dir() {
            return Err(PortError::new(PortErrorKind::Permanent, op())
                .with_source(invalid("the key is a prefix of other keys on disk")));
        }
        let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(|e| io_error(op(), e))?;
        fill(tmp.as_file_mut()).map_err(|e| io_error(op(), e))?;
        tmp.as_file().sync_data().map_err(|e| io_error(op(), e))?;

        let meta = MetaFile { metadata: options.metadata.clone() };
        let meta_json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        let mut meta_tmp =
            tempfile::NamedTempFile::new_in(&tmp_dir).map_err(|e| io_error(op(), e))?;
        io::Write::write_all(meta_tmp.as_file_mut(), &meta_json).map_err(|e| io_error(op(), e))?;

        if options.if_absent {
            tmp.persist_noclobber(&dest).map_err(|e| {
                if e.error.kind() == io::ErrorKind::AlreadyExists {
                    PortError::new(PortErrorKind::Conflict, op()).with_source(e.error)
                } else {
                    io_error(op(), e.error)
                }
            })?;
        } else {
            tmp.persist(&dest).map_err(|e| io_error(op(), e.error))?;
        }
        let meta_dest = self.meta_path(bucket, key);
        if let Some(parent) = meta_dest.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error(op(), e))?;
        }
        meta_tmp.persist(&meta_dest).map_err(|e| io_error(op(), e.error))?;
        Ok(())
    }

    fn info_sync(
        &self,
        bucket: &str,
        key: &str,
        op: &dyn Fn() -> String,
    ) -> Result<ObjectInfo, PortError> {
        check_name(bucket, key)
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        let path = self.object_path(bucket, key);
        let stat = fs::metadata(&path).map_err(|e| io_error(op(), e))?;
        if !stat.is_file() {
            return Err(PortError::new(PortErrorKind::NotFound, op()));
        }
        let metadata = match fs::read(self.meta_path(bucket, key)) {
            Ok(bytes) => {
                serde_json::from_slice::<MetaFile>(&bytes)
                    .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?
                    .metadata
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io_error(op(), e)),
        };
        let last_modified_ms = stat
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Ok(ObjectInfo { key: key.to_owned(), size: stat.len(), last_modified_ms, metadata })
    }

    fn get_sync(&self, bucket: &str, key: &str, dest: &Path) -> Result<ObjectInfo, PortError> {
        let op = || format!("get object {bucket}/{key}");
        let info = self.info_sync(bucket, key, &op)?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(op(), e))?;
        let mut src =
            fs::File::open(self.object_path(bucket, key)).map_err(|e| io_error(op(), e))?;
        io::copy(&mut src, tmp.as_file_mut()).map_err(|e| io_error(op(), e))?;
        tmp.persist(dest).map_err(|e| io_error(op(), e.error))?;
        Ok(info)
    }

    fn list_sync(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, PortError> {
        let op = || format!("list objects {bucket}/{prefix}");
        check_bucket(bucket)
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        let base = self.root.join("s3").join(bucket);
        if !base.is_dir() {
            return Ok(Vec::new());
        }
        // Only the directory the prefix names (up to its last `/`) can hold matching keys.
        let start = match prefix.rsplit_once('/') {
            Some((dir, _)) if check_name(bucket, dir).is_ok() => base.join(dir),
            _ => base.clone(),
        };
        if !start.is_dir() {
            return Ok(Vec::new());
        }
        let mut keys = Vec::new();
        for entry in walkdir::WalkDir::new(&start).min_depth(1) {
            let entry = entry.map_err(|e| {
                let e: io::Error = e.into();
                io_error(op(), e)
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&base) else { continue };
            let Some(key) = key_of(rel) else { continue };
            if key.starts_with(prefix) {
                keys.push(key);
            }
        }
        keys.sort_unstable();
        keys.iter().map(|key| self.info_sync(bucket, key, &op)).collect()
    }
}

/// The S3 key of a relative path under a bucket directory, or `None` when it is not UTF-8.
fn key_of(rel: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        parts.push(c.as_os_str().to_str()?);
    }
    Some(parts.join("/"))
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.to_owned())
}

fn check_bucket(bucket: &str) -> io::Result<()> {
    if bucket.is_empty() || bucket == "." || bucket == ".." || bucket.contains(['/', '\\', '\0']) {
        return Err(invalid("invalid bucket name"));
    }
    Ok(())
}

fn check_name(bucket: &str, key: &str) -> io::Result<()> {
    check_bucket(bucket)?;
    if key.is_empty() || key.contains('\0') {
        return Err(invalid("empty key"));
    }
    if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(invalid(
            "the key has an empty, `.` or `..` segment, which a file system cannot hold",
        ));
    }
    Ok(())
}

fn io_error(operation: String, e: io::Error) -> PortError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => PortErrorKind::NotFound,
        io::ErrorKind::AlreadyExists => PortErrorKind::Conflict,
        io::ErrorKind::PermissionDenied
        | io::ErrorKind::InvalidInput
        | io::ErrorKind::NotADirectory
        | io::ErrorKind::IsADirectory => PortErrorKind::Permanent,
        _ => PortErrorKind::Unavailable,
    };
    PortError::new(kind, operation).with_source(e)
}

impl ObjectStore for FsObjectStore {
    fn put_file<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        path: &'a Path,
        options: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            self.put_sync(
                bucket,
                key,
                |out| {
                    let mut src = fs::File::open(path)?;
                    io::copy(&mut src, out).map(drop)
                },
                options,
            )
        })
    }

    fn put_bytes<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        bytes: Vec<u8>,
        options: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            self.put_sync(bucket, key, |out| io::Write::write_all(out, &bytes), options)
        })
    }

    fn get_file<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        dest: &'a Path,
    ) -> PortFuture<'a, ObjectInfo> {
        Box::pin(async move { self.get_sync(bucket, key, dest) })
    }

    fn head<'a>(&'a self, bucket: &'a str, key: &'a str) -> PortFuture<'a, ObjectInfo> {
        Box::pin(async move {
            let op = || format!("head object {bucket}/{key}");
            self.info_sync(bucket, key, &op)
        })
    }

    fn list<'a>(&'a self, bucket: &'a str, prefix: &'a str) -> PortFuture<'a, Vec<ObjectInfo>> {
        Box::pin(async move { self.list_sync(bucket, prefix) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FsObjectStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsObjectStore::new(dir.path());
        (dir, store)
    }

    fn meta(pairs: &[(&str, &str)]) -> PutOptions {
        PutOptions {
            metadata: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            if_absent: false,
        }
    }

    #[tokio::test]
    async fn put_bytes_then_get_file_round_trips_with_metadata() {
        let (dir, store) = store();
        let opts = meta(&[("codebuild-buildarn", "arn:aws:codebuild:r:1:build/p:u")]);
        store.put_bytes("bkt", "a/b/c.txt", b"hello".to_vec(), &opts).await.expect("put");
        assert_eq!(fs::read(dir.path().join("s3/bkt/a/b/c.txt")).expect("object"), b"hello");
        let meta_json =
            fs::read_to_string(dir.path().join("s3-meta/bkt/a/b/c.txt.json")).expect("meta");
        assert!(meta_json.contains("codebuild-buildarn"), "{meta_json}");

        let dest = dir.path().join("out.txt");
        let info = store.get_file("bkt", "a/b/c.txt", &dest).await.expect("get");
        assert_eq!(fs::read(&dest).expect("dest"), b"hello");
        assert_eq!(info.key, "a/b/c.txt");
        assert_eq!(info.size, 5);
        assert_eq!(info.metadata, opts.metadata);
        assert!(info.last_modified_ms > 0);
    }

    #[tokio::test]
    async fn put_file_copies_the_file_and_replaces_an_existing_object() {
        let (dir, store) = store();
        let src = dir.path().join("src.bin");
        fs::write(&src, vec![7u8; 100_000]).expect("write");
        store.put_bytes("b", "k", b"old".to_vec(), &meta(&[("x", "1")])).await.expect("put old");
        store.put_file("b", "k", &src, &PutOptions::default()).await.expect("put new");
        let info = store.head("b", "k").await.expect("head");
        assert_eq!(info.size, 100_000);
        assert!(info.metadata.is_empty(), "metadata is replaced with the object");
        assert_eq!(fs::read(store.object_path("b", "k")).expect("read"), vec![7u8; 100_000]);
    }

    #[tokio::test]
    async fn if_absent_keeps_the_existing_object_and_reports_conflict() {
        let (_dir, store) = store();
        let first = PutOptions { if_absent: true, ..meta(&[("v", "1")]) };
        store.put_bytes("b", "cache/key", b"first".to_vec(), &first).await.expect("first put");
        let second = PutOptions { if_absent: true, ..meta(&[("v", "2")]) };
        let err = store
            .put_bytes("b", "cache/key", b"second".to_vec(), &second)
            .await
            .expect_err("conflict");
        assert_eq!(err.kind, PortErrorKind::Conflict);
        let info = store.head("b", "cache/key").await.expect("head");
        assert_eq!(info.metadata.get("v").map(String::as_str), Some("1"));
        assert_eq!(fs::read(store.object_path("b", "cache/key")).expect("read"), b"first");
    }

    #[tokio::test]
    async fn get_of_a_missing_key_is_not_found_and_leaves_no_file() {
        let (dir, store) = store();
        let dest = dir.path().join("never");
        let err = store.get_file("b", "missing", &dest).await.expect_err("missing");
        assert_eq!(err.kind, PortErrorKind::NotFound);
        assert!(!dest.exists());
        let err = store.head("b", "missing").await.expect_err("missing");
        assert_eq!(err.kind, PortErrorKind::NotFound);
    }

    #[tokio::test]
    async fn list_returns_matching_keys_in_key_order_and_nothing_in_flight() {
        let (dir, store) = store();
        for key in ["b/2", "a/z", "a/b/c", "a.txt", "c"] {
            store
                .put_bytes("bkt", key, key.as_bytes().to_vec(), &PutOptions::default())
                .await
                .expect("put");
        }
        fs::write(dir.path().join("s3-tmp/stray"), b"partial").expect("stray temp file");
        let all: Vec<_> =
            store.list("bkt", "").await.expect("list").into_iter().map(|o| o.key).collect();
        assert_eq!(all, ["a.txt", "a/b/c", "a/z", "b/2", "c"]);
        let a: Vec<_> =
            store.list("bkt", "a/").await.expect("list").into_iter().map(|o| o.key).collect();
        assert_eq!(a, ["a/b/c", "a/z"]);
        assert!(store.list("other", "").await.expect("empty bucket").is_empty());
    }

    #[test]
    fn racing_if_absent_puts_have_exactly_one_winner() {
        let (_dir, store) = store();
        let results: Vec<Result<(), PortError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let store = &store;
                    s.spawn(move || {
                        let opts =
                            PutOptions { if_absent: true, ..meta(&[("writer", &i.to_string())]) };
                        let rt =
                            tokio::runtime::Builder::new_current_thread().build().expect("runtime");
                        rt.block_on(store.put_bytes("b", "k", vec![i; 4096], &opts))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| e.kind == PortErrorKind::Conflict)
        );
        let winner = results.iter().position(Result::is_ok).expect("a winner");
        let bytes = fs::read(store.object_path("b", "k")).expect("read");
        assert_eq!(bytes, vec![u8::try_from(winner).expect("small"); 4096]);
    }

    #[tokio::test]
    async fn keys_a_file_system_cannot_hold_are_permanent_errors() {
        let (_dir, store) = store();
        for key in ["", "a//b", "../escape", "a/./b", "dir/"] {
            let err =
                store.put_bytes("b", key, Vec::new(), &PutOptions::default()).await.expect_err(key);
            assert_eq!(err.kind, PortErrorKind::Permanent, "{key}");
        }
        let err = store
            .put_bytes("a/b", "k", Vec::new(), &PutOptions::default())
            .await
            .expect_err("bucket");
        assert_eq!(err.kind, PortErrorKind::Permanent);
        store.put_bytes("b", "x/y", Vec::new(), &PutOptions::default()).await.expect("put");
        let err = store
            .put_bytes("b", "x", Vec::new(), &PutOptions::default())
            .await
            .expect_err("prefix");
        assert_eq!(err.kind, PortErrorKind::Permanent);
    }
}
