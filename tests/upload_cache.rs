//! Spec §8 T53–T56 and the cache's failure rules: a cache saved by one build is restored into
//! the next build's fresh working copy; a failing store only warns.

#[path = "upload_common.rs"]
#[allow(dead_code, reason = "shared by several test binaries, each using a part of it")]
mod common;

use std::path::Path;

use common::{Harness, Raw, buildspec, raw_archive, strings, tree_of, write_tree};
use kiln_agent::upload::UploadStatus;
use kiln_core::buildspec::{ArtifactsSpec, Buildspec, CacheAction, CacheSpec};
use kiln_core::ports::{ObjectStore, PutOptions};
use kiln_core::project::{Project, ProjectCache};
use kiln_local::UnavailableObjectStore;

fn project() -> Project {
    Project {
        name: "proj".into(),
        cache: Some(ProjectCache {
            cache_type: Some("S3".into()),
            location: Some("cache-bkt/pre".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn with_cache(cache: CacheSpec) -> Buildspec {
    let mut b = buildspec();
    b.cache = Some(cache);
    b
}

fn cache(key: Option<&str>, fallback: &[&str], action: Option<CacheAction>) -> CacheSpec {
    CacheSpec {
        paths: strings(&[".cache/**/*", "node_modules"]),
        key: key.map(Into::into),
        fallback_keys: strings(fallback),
        action,
    }
}

fn fresh(h: &Harness, name: &str) -> std::path::PathBuf {
    let dir = h.dir.path().join(name);
    std::fs::create_dir_all(&dir).expect("fresh working copy");
    dir
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test]
async fn t53_a_keyed_cache_saved_by_one_build_is_restored_into_the_next_and_kept() {
    let h = Harness::new();
    h.write(&[".cache/x", "node_modules/pkg/index.js", "src/main.js"]);
    std::os::unix::fs::symlink("../pkg/index.js", h.src().join("node_modules/pkg-link"))
        .expect("link");
    let spec = with_cache(cache(Some("k1"), &[], None));
    let (out, log) = h.upload(&spec, &project()).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    assert!(
        log.iter().any(|l| l.starts_with(
            "Saved 3 file(s) to the cache at s3://cache-bkt/pre/proj/keys/k1.tar.zst"
        )),
        "{log:#?}"
    );
    let first = h.objects("cache-bkt");
    assert_eq!(first.keys().collect::<Vec<_>>(), ["pre/proj/keys/k1.tar.zst"]);

    let next = fresh(&h, "build2");
    let log = h.restore_in(&spec, &project(), &next, &h.store).await;
    assert!(log.contains(&"Restored 3 cached file(s)".to_owned()), "{log:#?}");
    assert_eq!(read(&next.join(".cache/x")), "contents of .cache/x");
    assert_eq!(
        read(&next.join("node_modules/pkg/index.js")),
        "contents of node_modules/pkg/index.js"
    );
    assert_eq!(
        std::fs::read_link(next.join("node_modules/pkg-link")).expect("link"),
        Path::new("../pkg/index.js")
    );
    assert!(!next.join("src/main.js").exists(), "only cache paths travel");

    write_tree(&next, &[".cache/y"]);
    let (_, log) = h.upload_in(&spec, &project(), &next, &h.store).await;
    assert!(log.iter().any(|l| l.contains("keyed entries are not replaced")), "{log:#?}");
    assert_eq!(h.objects("cache-bkt"), first, "the keyed entry is immutable");
}

#[tokio::test]
async fn t54_fallback_keys_restore_the_newest_prefix_match_and_save_the_new_key() {
    let h = Harness::new();
    h.write(&[".cache/one"]);
    h.upload(&with_cache(cache(Some("k-0"), &[], None)), &project()).await;
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(h.src().join(".cache/one"), "newer").expect("write");
    h.upload(&with_cache(cache(Some("k-1"), &[], None)), &project()).await;

    let next = fresh(&h, "build2");
    let spec = with_cache(cache(Some("k-2"), &["nomatch-", "k-"], None));
    let log = h.restore_in(&spec, &project(), &next, &h.store).await;
    assert!(
        log.contains(&"Restoring cache from s3://cache-bkt/pre/proj/keys/k-1.tar.zst".to_owned()),
        "{log:#?}"
    );
    assert_eq!(read(&next.join(".cache/one")), "newer");
    h.upload_in(&spec, &project(), &next, &h.store).await;
    assert!(h.objects("cache-bkt").contains_key("pre/proj/keys/k-2.tar.zst"));
}

#[tokio::test]
async fn t55_action_restore_never_saves_and_save_never_restores() {
    let h = Harness::new();
    h.write(&[".cache/x"]);
    let (_, log) =
        h.upload(&with_cache(cache(Some("k"), &[], Some(CacheAction::Restore))), &project()).await;
    assert!(log.contains(&"Skipping cache save: the cache action is restore".to_owned()));
    assert!(h.objects("cache-bkt").is_empty());
    h.upload(&with_cache(cache(Some("k"), &[], None)), &project()).await;
    let next = fresh(&h, "build2");
    let log = h
        .restore_in(
            &with_cache(cache(Some("k"), &[], Some(CacheAction::Save))),
            &project(),
            &next,
            &h.store,
        )
        .await;
    assert!(!next.join(".cache/x").exists(), "{log:#?}");
}

#[tokio::test]
async fn t56_fallback_keys_without_key_are_ignored_and_the_unkeyed_entry_is_overwritten() {
    let h = Harness::new();
    h.write(&[".cache/x"]);
    h.upload(&with_cache(cache(Some("k-1"), &[], None)), &project()).await;
    let unkeyed = with_cache(cache(None, &["k-"], None));
    let next = fresh(&h, "build2");
    let log = h.restore_in(&unkeyed, &project(), &next, &h.store).await;
    assert_eq!(log, ["No cache entry yet"]);
    assert!(!next.join(".cache/x").exists());

    h.upload(&unkeyed, &project()).await;
    std::fs::write(h.src().join(".cache/x"), "second").expect("write");
    h.upload(&unkeyed, &project()).await;
    let third = fresh(&h, "build3");
    h.restore_in(&unkeyed, &project(), &third, &h.store).await;
    assert_eq!(read(&third.join(".cache/x")), "second");
}

#[tokio::test]
async fn keys_are_evaluated_by_the_shell_and_hash_files_is_stable() {
    let h = Harness::new();
    h.write(&[".cache/x"]);
    let spec = with_cache(cache(Some("npm-$CODEBUILD_BUILD_NUMBER-$(echo a)"), &[], None));
    h.upload(&spec, &project()).await;
    assert!(h.objects("cache-bkt").contains_key("pre/proj/keys/npm-7-a.tar.zst"));
}

#[tokio::test]
async fn caching_off_paths_missing_and_absolute_paths() {
    let h = Harness::new();
    h.write(&["a"]);
    let none = Project { name: "proj".into(), ..Default::default() };
    let log =
        h.restore_in(&with_cache(cache(Some("k"), &[], None)), &none, &h.src(), &h.store).await;
    assert_eq!(log, ["Skipping the cache: the project has no cache"]);
    let no_paths = with_cache(CacheSpec { paths: Vec::new(), ..cache(Some("k"), &[], None) });
    let log = h.restore_in(&no_paths, &project(), &h.src(), &h.store).await;
    assert_eq!(log, ["Unable to initialize cache download: no paths specified to be cached"]);

    let outside = h.dir.path().join("m2");
    write_tree(&outside, &["repo/lib.jar"]);
    let abs = with_cache(CacheSpec {
        paths: vec![format!("{}/**/*", outside.display())],
        ..cache(Some("abs"), &[], None)
    });
    h.upload(&abs, &project()).await;
    std::fs::remove_dir_all(&outside).expect("remove");
    h.restore_in(&abs, &project(), &h.src(), &h.store).await;
    assert_eq!(read(&outside.join("repo/lib.jar")), "contents of repo/lib.jar");
}

#[tokio::test]
async fn a_failing_cache_store_only_warns() {
    let h = Harness::new();
    h.write(&[".cache/x"]);
    for key in [Some("k"), None] {
        let spec = with_cache(cache(key, &["k"], None));
        let log = h.restore_in(&spec, &project(), &h.src(), &UnavailableObjectStore).await;
        assert!(
            log.len() == 1 && log[0].starts_with("Warning: cache lookup failed: head object"),
            "{log:#?}"
        );
        let (out, log) = h.upload_in(&spec, &project(), &h.src(), &UnavailableObjectStore).await;
        assert_eq!(out.status, UploadStatus::Succeeded);
        assert!(log.iter().any(|l| l.starts_with("Warning: cache save failed")), "{log:#?}");
    }
}

#[tokio::test]
async fn a_failing_artifact_store_fails_the_phase_but_reports_and_cache_only_warn() {
    let h = Harness::new();
    h.write(&["a.txt"]);
    let mut spec = with_cache(cache(Some("k"), &[], None));
    spec.artifacts = Some(ArtifactsSpec { files: strings(&["a.txt"]), ..Default::default() });
    let (out, _) = h.upload_in(&spec, &project(), &h.src(), &UnavailableObjectStore).await;
    assert!(
        matches!(out.status, UploadStatus::Failed { ref status_code, .. } if status_code == "CLIENT_ERROR")
    );
}

/// Stores `archive` as the cache entry of key `k1`.
async fn store_entry(h: &Harness, archive: Vec<u8>) {
    h.store
        .put_bytes("cache-bkt", "pre/proj/keys/k1.tar.zst", archive, &PutOptions::default())
        .await
        .expect("store the entry");
}

fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).expect("metadata").permissions().mode() & 0o7777
}

/// A poisoned entry (another project sharing the cache namespace, say) tries every way out:
/// links to an absolute and to an escaping place with files written through them, `..`
/// names, names outside the cache paths (relative and absolute), setuid bits, hard links,
/// devices and fifos. Only regular files and inside links under the cache paths are restored,
/// without special mode bits, and the build only sees warnings.
#[tokio::test]
async fn a_hostile_archive_writes_only_under_the_cache_paths() {
    let h = Harness::new();
    let outside = h.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    let outside_text = outside.display().to_string();
    let absolute_name = format!("a{outside_text}/absolute");
    store_entry(
        &h,
        raw_archive(&[
            Raw::Link("s/.cache/abs", &outside_text),
            Raw::File("s/.cache/abs/through-absolute-link", b"x", 0o644),
            Raw::Link("s/.cache/rel", "../../outside"),
            Raw::File("s/.cache/rel/through-relative-link", b"x", 0o644),
            Raw::Link("s/.cache/up", "../.."),
            Raw::File("s/.cache/up/through-parent-link", b"x", 0o644),
            Raw::File("s/../outside/dot-dot", b"x", 0o644),
            Raw::File("s/.cache/../../outside/dot-dot-inside", b"x", 0o644),
            Raw::File("s/src/not-a-cache-path.sh", b"x", 0o755),
            Raw::File(&absolute_name, b"x", 0o644),
            Raw::File("s/.cache/setuid", b"#!/bin/sh\n", 0o6755),
            Raw::Dir("s/.cache/sticky", 0o1777),
            Raw::HardLink("s/.cache/hard", "s/.cache/setuid"),
            Raw::Fifo("s/.cache/fifo"),
            Raw::CharDevice("s/.cache/null"),
            Raw::Link("s/.cache/inside", "setuid"),
            Raw::Link("s/node_modules/.bin/tool", "../pkg/tool.js"),
            Raw::File("s/node_modules/pkg/tool.js", b"js", 0o755),
        ]),
    )
    .await;
    let log = h
        .restore_in(&with_cache(cache(Some("k1"), &[], None)), &project(), &h.src(), &h.store)
        .await;
    assert!(tree_of(&outside).is_empty(), "written outside: {:?}\n{log:#?}", tree_of(&outside));
    assert!(!h.dir.path().join("through-parent-link").exists(), "{log:#?}");
    assert_eq!(
        tree_of(&h.src()),
        [
            ".cache",
            ".cache/abs",
            ".cache/abs/through-absolute-link",
            ".cache/inside",
            ".cache/rel",
            ".cache/rel/through-relative-link",
            ".cache/setuid",
            ".cache/up",
            ".cache/up/through-parent-link",
            "node_modules",
            "node_modules/.bin",
            "node_modules/.bin/tool",
            "node_modules/pkg",
            "node_modules/pkg/tool.js",
        ],
        "{log:#?}"
    );
    for dir in [".cache/abs", ".cache/rel", ".cache/up"] {
        assert!(std::fs::symlink_metadata(h.src().join(dir)).expect("dir").is_dir(), "{dir}");
    }
    assert_eq!(mode_of(&h.src().join(".cache/setuid")), 0o755);
    assert_eq!(
        std::fs::read_link(h.src().join(".cache/inside")).expect("link"),
        Path::new("setuid")
    );
    assert!(log.iter().any(|l| l.starts_with("Warning: ")), "{log:#?}");
    assert!(log.iter().all(|l| !l.starts_with("Warning: cache restore failed")), "{log:#?}");
}

/// The working copy itself may hold links (a checked-out `node_modules -> /somewhere`):
/// restoring never writes through them, and a directory in the way of a file stays.
#[tokio::test]
async fn a_link_in_the_working_copy_is_never_written_through() {
    let h = Harness::new();
    let outside = h.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    std::os::unix::fs::symlink(&outside, h.src().join("node_modules")).expect("link");
    std::fs::create_dir_all(h.src().join(".cache/x")).expect("a directory in the way");
    store_entry(
        &h,
        raw_archive(&[
            Raw::File("s/node_modules/pkg/index.js", b"x", 0o644),
            Raw::File("s/node_modules", b"x", 0o644),
            Raw::File("s/.cache/x", b"x", 0o644),
            Raw::File("s/.cache/y", b"y", 0o644),
        ]),
    )
    .await;
    let log = h
        .restore_in(&with_cache(cache(Some("k1"), &[], None)), &project(), &h.src(), &h.store)
        .await;
    assert!(tree_of(&outside).is_empty(), "{:?}\n{log:#?}", tree_of(&outside));
    assert!(h.src().join(".cache/x").is_dir());
    assert_eq!(read(&h.src().join(".cache/y")), "y", "{log:#?}");
    assert!(log.iter().any(|l| l.starts_with("Warning: ")), "{log:#?}");
}

/// An absolute cache path (`/root/.m2/**/*` in real buildspecs) restores only under its
/// literal prefix; an entry elsewhere on the host is not restored.
#[tokio::test]
async fn absolute_cache_paths_restore_only_under_their_prefix() {
    let h = Harness::new();
    let m2 = h.dir.path().join("m2");
    let other = h.dir.path().join("other");
    let spec = with_cache(CacheSpec {
        paths: vec![format!("{}/**/*", m2.display())],
        ..cache(Some("k1"), &[], None)
    });
    let inside = format!("a{}/repo/lib.jar", m2.display());
    let elsewhere = format!("a{}/evil", other.display());
    let sibling = format!("a{}2/evil", m2.display());
    store_entry(
        &h,
        raw_archive(&[
            Raw::File(&inside, b"jar", 0o644),
            Raw::File(&elsewhere, b"x", 0o644),
            Raw::File(&sibling, b"x", 0o644),
            Raw::File("s/.cache/x", b"x", 0o644),
        ]),
    )
    .await;
    let log = h.restore_in(&spec, &project(), &h.src(), &h.store).await;
    assert_eq!(read(&m2.join("repo/lib.jar")), "jar", "{log:#?}");
    assert!(!other.exists() && !h.dir.path().join("m22").exists(), "{log:#?}");
    assert!(tree_of(&h.src()).is_empty(), "{log:#?}");
}

/// Saving never follows a link out of the source: a link to an absolute place or a cache
/// path that is itself a link to elsewhere is left out (with a log line), so the next build
/// gets neither the link nor what it led to; a link inside is kept.
#[tokio::test]
async fn saving_never_follows_or_keeps_a_link_out_of_the_source() {
    let h = Harness::new();
    let outside = h.dir.path().join("outside");
    write_tree(&outside, &["secret.txt"]);
    h.write(&[".cache/x"]);
    std::os::unix::fs::symlink(outside.join("secret.txt"), h.src().join(".cache/leak"))
        .expect("link");
    std::os::unix::fs::symlink("../../outside/secret.txt", h.src().join(".cache/up"))
        .expect("link");
    std::os::unix::fs::symlink("x", h.src().join(".cache/in")).expect("link");
    std::os::unix::fs::symlink(&outside, h.src().join("node_modules")).expect("link");
    let spec = with_cache(cache(Some("k1"), &[], None));
    let (_, log) = h.upload(&spec, &project()).await;
    assert!(log.iter().any(|l| l.starts_with("Saved 2 file(s)")), "{log:#?}");
    let next = fresh(&h, "build2");
    let log = h.restore_in(&spec, &project(), &next, &h.store).await;
    assert_eq!(tree_of(&next), [".cache", ".cache/in", ".cache/x"], "{log:#?}");
}
