//! Variables no process can be given, arriving other than through a buildspec or catalog
//! (which reject them when parsed): an override or the image's environment with a NUL is
//! skipped with a warning; a resolved secret with one fails DOWNLOAD_SOURCE once, naming it,
//! instead of every command failing to start.

#[expect(dead_code, reason = "the harness serves several test binaries; this one uses part of it")]
mod harness;

use harness::Project;

#[test]
fn an_override_holding_a_nul_is_skipped_with_a_warning() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"[${BROKEN-unset}] [$FINE]\"\n      - echo second\n",
    )]);
    let mut options = p.options();
    options.env = vec![("BROKEN".into(), "a\0b".into()), ("FINE".into(), "ok".into())];
    let out = p.run_with(&options, "");
    assert_eq!(out.status(), "SUCCEEDED", "{}", out.log);
    assert!(
        out.log
            .contains("Warning: skipping environment variable BROKEN: its value holds a NUL byte"),
        "{}",
        out.log
    );
    assert!(out.log.contains("\n[unset] [ok]\n"), "{}", out.log);
    assert!(out.log.contains("\nsecond\n"), "{}", out.log);
}

#[test]
fn a_secret_holding_a_nul_fails_download_source_naming_it() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  parameter-store:\n    TOKEN: /p/token\nphases:\n  build:\n    commands:\n      - echo should not run\n",
    )]);
    let out = p.run_with(&p.options(), "/p/token=sec\0ret\n");
    assert_eq!(out.phase("DOWNLOAD_SOURCE").as_deref(), Some("FAILED"), "{}", out.log);
    let (code, message) = out.context("DOWNLOAD_SOURCE").expect("context");
    assert_eq!(code, "CLIENT_ERROR");
    assert_eq!(message, "environment variable TOKEN: its value holds a NUL byte");
    assert!(!out.log.contains("should not run"), "{}", out.log);
    assert!(!out.log.contains("ret"), "the value leaked: {}", out.log);
    assert_eq!(out.status(), "FAILED");
}
