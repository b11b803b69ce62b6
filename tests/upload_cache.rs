//! Spec §8 T53–T56 and the cache's failure rules: a cache saved by one build is restored into
//! the next build's fresh working copy; a failing store only warns.

#[path = "upload_common.rs"]
#[allow(dead_code, reason = "shared by several test binaries, each using a part of it")]
mod common;

use std::path::Path;

use common::{Harness, buildspec, strings, write_tree};
use kiln_agent::upload::UploadStatus;
use kiln_core::buildspec::{ArtifactsSpec, Buildspec, CacheAction, CacheSpec};
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
