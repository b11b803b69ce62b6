//! `S3ObjectStore` against the emulator: the `ObjectStore` contract.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use kiln_aws::{Multipart, S3ObjectStore};
use kiln_core::ports::{ObjectStore, PortErrorKind, PutOptions};
use sha2::{Digest, Sha256};

use crate::support;

fn meta(pairs: &[(&str, &str)]) -> PutOptions {
    PutOptions {
        metadata: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        if_absent: false,
    }
}

#[tokio::test]
async fn bytes_round_trip_with_metadata() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "objects").await;
    let store = S3ObjectStore::new(&sdk);
    let options = meta(&[("codebuild-buildarn", "arn:aws:codebuild:us-east-1:1:build/p:u")]);
    let put = store.put_bytes(&bucket, "a/b/c.txt", b"hello".to_vec(), &options).await;
    assert!(put.is_ok(), "{put:?}");
    let head = store.head(&bucket, "a/b/c.txt").await.ok();
    let Some(head) = head else { panic!("head") };
    assert_eq!(head.size, 5);
    assert_eq!(head.metadata, options.metadata);
    assert!(head.last_modified_ms > 1_600_000_000_000);
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else { return };
    let dest = dir.path().join("c.txt");
    let got = store.get_file(&bucket, "a/b/c.txt", &dest).await.ok();
    assert_eq!(got.map(|i| i.metadata), Some(options.metadata.clone()));
    assert_eq!(std::fs::read(&dest).ok().as_deref(), Some(&b"hello"[..]));
}

#[tokio::test]
async fn a_missing_object_is_not_found_and_leaves_no_file() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "objects").await;
    let store = S3ObjectStore::new(&sdk);
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else { return };
    let dest = dir.path().join("out");
    let e = store.get_file(&bucket, "nothing", &dest).await.err();
    assert_eq!(e.as_ref().map(|e| e.kind), Some(PortErrorKind::NotFound), "{e:?}");
    assert!(e.is_some_and(|e| e.operation.contains(&format!("{bucket}/nothing"))));
    assert!(!dest.exists());
    assert_eq!(std::fs::read_dir(dir.path()).map(Iterator::count).ok(), Some(0));
    let e = store.head(&bucket, "nothing").await.err();
    assert_eq!(e.map(|e| e.kind), Some(PortErrorKind::NotFound));
}

#[tokio::test]
async fn if_absent_loses_to_an_existing_object() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "objects").await;
    let store = S3ObjectStore::new(&sdk);
    let absent = PutOptions { if_absent: true, ..PutOptions::default() };
    assert!(store.put_bytes(&bucket, "k", b"first".to_vec(), &absent).await.is_ok());
    let e = store.put_bytes(&bucket, "k", b"second".to_vec(), &absent).await.err();
    assert_eq!(e.map(|e| e.kind), Some(PortErrorKind::Conflict));
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else { return };
    let dest = dir.path().join("k");
    assert!(store.get_file(&bucket, "k", &dest).await.is_ok());
    assert_eq!(std::fs::read(&dest).ok().as_deref(), Some(&b"first"[..]));
    let replaced = store.put_bytes(&bucket, "k", b"third".to_vec(), &PutOptions::default()).await;
    assert!(replaced.is_ok());
}

#[tokio::test]
async fn list_reads_every_page_in_key_order() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "objects").await;
    let store = Arc::new(S3ObjectStore::new(&sdk).with_page_size(2));
    let keys = ["p/b", "p/a", "p/c/d", "p/ab", "q/x"];
    for key in keys {
        let put =
            store.put_bytes(&bucket, key, key.as_bytes().to_vec(), &meta(&[("k", key)])).await;
        assert!(put.is_ok());
    }
    let listed = store.list(&bucket, "p/").await.ok().unwrap_or_default();
    let names: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(names, ["p/a", "p/ab", "p/b", "p/c/d"]);
    assert_eq!(listed[3].size, 5);
    assert_eq!(listed[3].metadata, BTreeMap::from([("k".to_owned(), "p/c/d".to_owned())]));
    assert_eq!(store.list(&bucket, "p/a").await.ok().map(|l| l.len()), Some(2));
    assert_eq!(store.list(&bucket, "none/").await.ok().map(|l| l.len()), Some(0));
}

fn random_file(dir: &std::path::Path, size: usize) -> (std::path::PathBuf, String) {
    let path = dir.join("big.bin");
    let mut file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("create: {e}"));
    let mut hash = Sha256::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut block = vec![0u8; 1 << 16];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let bytes = state.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        let n = left.min(block.len());
        hash.update(&block[..n]);
        file.write_all(&block[..n]).unwrap_or_else(|e| panic!("write: {e}"));
        left -= n;
    }
    (path, hex::encode(hash.finalize()))
}

fn sha256_of(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

#[tokio::test]
async fn a_file_above_the_threshold_goes_up_in_parts_byte_for_byte() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "multipart").await;
    let multipart = Multipart { threshold: 8 << 20, part_size: 5 << 20, concurrency: 3 };
    let store = S3ObjectStore::new(&sdk).with_multipart(multipart);
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else { return };
    let size = (17 << 20) + 12345;
    let (path, digest) = random_file(dir.path(), size);
    let options = PutOptions { if_absent: true, ..meta(&[("origin", "multipart")]) };
    let put = store.put_file(&bucket, "cache/big.bin", &path, &options).await;
    assert!(put.is_ok(), "{put:?}");
    let head = store.client().head_object().bucket(&bucket).key("cache/big.bin").send().await;
    let etag = head.as_ref().ok().and_then(|h| h.e_tag()).unwrap_or_default().to_owned();
    assert!(etag.ends_with("-4\""), "four parts of 5 MiB: {etag}");
    let dest = dir.path().join("back.bin");
    let info = store.get_file(&bucket, "cache/big.bin", &dest).await.ok();
    assert_eq!(info.as_ref().map(|i| i.size), Some(size as u64));
    assert_eq!(info.map(|i| i.metadata.get("origin").cloned()), Some(Some("multipart".to_owned())));
    assert_eq!(sha256_of(&dest), digest);
    let again = store.put_file(&bucket, "cache/big.bin", &path, &options).await.err();
    assert_eq!(again.map(|e| e.kind), Some(PortErrorKind::Conflict));
    let uploads = store.client().list_multipart_uploads().bucket(&bucket).send().await;
    assert_eq!(uploads.ok().map(|u| u.uploads().len()), Some(0), "the losing upload was aborted");
}

#[tokio::test]
async fn a_small_file_is_one_put() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "objects").await;
    let store = S3ObjectStore::new(&sdk);
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else { return };
    let (path, digest) = random_file(dir.path(), 300_000);
    assert!(store.put_file(&bucket, "small", &path, &PutOptions::default()).await.is_ok());
    let head = store.client().head_object().bucket(&bucket).key("small").send().await;
    let etag = head.ok().and_then(|h| h.e_tag().map(str::to_owned)).unwrap_or_default();
    assert!(!etag.contains('-'), "{etag}");
    let dest = dir.path().join("back");
    assert!(store.get_file(&bucket, "small", &dest).await.is_ok());
    assert_eq!(sha256_of(&dest), digest);
    let e = store.put_file(&bucket, "x", &dir.path().join("absent"), &PutOptions::default()).await;
    assert_eq!(e.err().map(|e| e.kind), Some(PortErrorKind::NotFound));
}

#[tokio::test]
async fn a_presigned_link_reads_the_object() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "objects").await;
    let store = S3ObjectStore::new(&sdk);
    assert!(
        store
            .put_bytes(&bucket, "logs/build.log", b"line\n".to_vec(), &PutOptions::default())
            .await
            .is_ok()
    );
    let link =
        store.presign_get(&bucket, "logs/build.log", std::time::Duration::from_secs(600)).await;
    let Ok(link) = link else { panic!("sign: {link:?}") };
    assert!(link.contains("X-Amz-Signature="), "{link}");
    assert!(!link.contains(support::SECRET_KEY));
    let path = link.strip_prefix(&url).unwrap_or_else(|| panic!("{link} is not under {url}"));
    let (status, body) = support::http(&url, "GET", path, &[], "");
    assert_eq!((status, body.as_str()), (200, "line\n"));
    let too_long =
        store.presign_get(&bucket, "k", std::time::Duration::from_secs(8 * 24 * 3600)).await;
    assert_eq!(too_long.err().map(|e| e.kind), Some(PortErrorKind::Permanent));
}
