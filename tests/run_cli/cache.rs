//! The S3 cache across real `kiln run` invocations with a project catalog (spec §5, T53–T55).

use crate::support::Workspace;

const CATALOG: &str = "projects:\n  - name: proj\n    cache: {type: S3, location: kiln-cache/proj}\n    artifacts: {type: NO_ARTIFACTS}\n";

/// A buildspec that prints what `.cache/x` holds before INSTALL runs anything, then writes
/// `$VALUE` into it; `cache` is its cache section.
fn buildspec(cache: &str) -> String {
    format!(
        "version: 0.2\nphases:\n  install:\n    commands:\n      - echo \"seen=$(cat .cache/x 2>/dev/null || echo none)\"\n  build:\n    commands:\n      - mkdir -p .cache && echo \"$VALUE\" > .cache/x\ncache:\n{cache}"
    )
}

fn run(ws: &Workspace, value: &str) -> crate::support::Run {
    let config = ws.path("projects.yaml");
    std::fs::write(&config, CATALOG).expect("catalog");
    let env = format!("VALUE={value}");
    let run = ws.run(&["--config", config.to_str().expect("utf-8"), "--env", &env]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    run
}

/// Build 1 creates `.cache/x`; build 2's fresh working copy has it before INSTALL, and the
/// unkeyed entry is overwritten by build 2.
#[test]
fn unkeyed_cache_is_restored_into_the_next_build() {
    let ws = Workspace::new(&[("buildspec.yml", &buildspec("  paths:\n    - '.cache/**/*'\n"))]);
    let first = run(&ws, "one");
    assert!(first.stdout.contains("\nseen=none\n"), "{}", first.output());
    assert_eq!(ws.objects("kiln-cache"), ["proj/proj/default.tar.zst"]);
    let second = run(&ws, "two");
    assert!(second.stdout.contains("\nseen=one\n"), "{}", second.output());
    let third = run(&ws, "three");
    assert!(third.stdout.contains("\nseen=two\n"), "{}", third.output());
    assert!(!ws.source().join(".cache").exists(), "the user's tree stays clean");
}

/// Keyed entries whose key uses `codebuild-hash-files` (on the build's PATH): an exact key
/// restores its own entry and is never overwritten; a new key falls back to the newest entry
/// matching a fallback prefix and saves its own; `action: restore` saves nothing.
#[test]
fn keyed_entries_fallback_keys_and_restore_only() {
    let cache = "  key: npm-$(codebuild-hash-files package-lock.json)\n  fallback-keys:\n    - npm-\n  paths:\n    - '.cache/**/*'\n";
    let ws = Workspace::new(&[("buildspec.yml", &buildspec(cache)), ("package-lock.json", "v1")]);
    let first = run(&ws, "one");
    assert!(first.stdout.contains("\nseen=none\n"), "{}", first.output());
    let entries = ws.objects("kiln-cache");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].starts_with("proj/proj/keys/npm-"), "{entries:?}");

    // Same key: restored, and the entry is immutable.
    let stored = ws.object("kiln-cache", &entries[0]);
    let second = run(&ws, "two");
    assert!(second.stdout.contains("\nseen=one\n"), "{}", second.output());
    assert_eq!(ws.objects("kiln-cache"), entries);
    assert_eq!(ws.object("kiln-cache", &entries[0]), stored, "a keyed entry is never overwritten");

    // A new lock file: no exact entry, the fallback prefix restores the existing one.
    ws.write(&[("package-lock.json", "v2")]);
    let third = run(&ws, "three");
    assert!(third.stdout.contains("\nseen=one\n"), "{}", third.output());
    assert_eq!(ws.objects("kiln-cache").len(), 2);

    // The newest of several prefix matches wins; `action: restore` stores nothing.
    ws.write(&[
        ("package-lock.json", "v3"),
        ("buildspec.yml", &buildspec(&format!("  action: restore\n{cache}"))),
    ]);
    let fourth = run(&ws, "four");
    assert!(fourth.stdout.contains("\nseen=three\n"), "{}", fourth.output());
    assert_eq!(ws.objects("kiln-cache").len(), 2);
}

/// A store that cannot hold the cache only warns: the build still SUCCEEDS.
#[test]
fn store_failure_only_warns() {
    let ws = Workspace::new(&[("buildspec.yml", &buildspec("  paths:\n    - '.cache/**/*'\n"))]);
    std::fs::create_dir_all(ws.data().join("s3")).expect("s3");
    std::fs::write(ws.data().join("s3/kiln-cache"), "not a bucket").expect("file");
    let run = run(&ws, "one");
    assert_eq!(run.status(), "SUCCEEDED");
    assert_eq!(run.phase("UPLOAD_ARTIFACTS"), Some("SUCCEEDED"));
    let warnings: Vec<&str> =
        run.stdout.lines().filter(|l| l.contains(" Warning: cache")).collect();
    assert_eq!(warnings.len(), 2, "a warning on restore and one on save\n{}", run.output());
}

#[path = "../upload_common.rs"]
#[allow(dead_code, reason = "shared with the upload tests; this one uses the archive helper")]
mod common;

/// A poisoned cache entry (links out, files through them, absolute names) restored by a real
/// `kiln run`: nothing is written outside the working copy, the build SUCCEEDS and the log
/// names what was skipped.
#[test]
fn a_poisoned_cache_entry_writes_nothing_outside() {
    use common::{Raw, raw_archive, tree_of};
    let ws = Workspace::new(&[("buildspec.yml", &buildspec("  paths:\n    - '.cache/**/*'\n"))]);
    let outside = ws.path("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    let target = outside.display().to_string();
    let absolute = format!("a{target}/absolute");
    let entry = ws.data().join("s3/kiln-cache/proj/proj/default.tar.zst");
    std::fs::create_dir_all(entry.parent().expect("parent")).expect("bucket");
    std::fs::write(
        &entry,
        raw_archive(&[
            Raw::Link("s/.cache/out", &target),
            Raw::File("s/.cache/out/through-link", b"x", 0o644),
            Raw::Link("s/.cache/up", "../../../../../.."),
            Raw::File(&absolute, b"x", 0o644),
            Raw::File("s/.cache/x", b"cached", 0o4755),
        ]),
    )
    .expect("entry");
    let run = run(&ws, "one");
    assert_eq!(run.status(), "SUCCEEDED", "{}", run.output());
    assert!(run.stdout.contains("\nseen=cached\n"), "{}", run.output());
    assert!(tree_of(&outside).is_empty(), "{:?}\n{}", tree_of(&outside), run.output());
    assert!(
        run.stdout.contains("Warning: cache entry \"s/.cache/out\" skipped"),
        "{}",
        run.output()
    );
}
