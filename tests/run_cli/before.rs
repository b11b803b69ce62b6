//! What `kiln run` checks before a build starts (exit 2, no build number, nothing copied), the
//! data directory it keeps tidy, and the block it prints at the end.

use crate::support::{Workspace, kiln};

fn no_build_started(ws: &Workspace) {
    assert!(!ws.data().join("numbers").exists(), "a build number was taken");
    assert!(!ws.data().join("builds").exists(), "something was copied");
}

#[test]
fn a_missing_buildspec_is_named_as_written_and_starts_nothing() {
    let ws = Workspace::new(&[("README", "no buildspec here\n")]);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(run.stderr.contains("buildspec.yml: no such file"), "{}", run.stderr);
    assert!(run.stderr.contains("--buildspec"), "{}", run.stderr);
    no_build_started(&ws);
    let run = ws.run(&["--buildspec", "ci/other.yml"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("ci/other.yml: no such file"), "{}", run.stderr);
    assert!(!run.stderr.contains("/builds/"), "the working copy is not named: {}", run.stderr);
    no_build_started(&ws);
}

#[test]
fn an_invalid_buildspec_shows_its_line_before_anything_runs() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  biuld:\n    commands: [echo hi]\n",
    )]);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(run.stderr.contains("buildspec.yml:3:"), "{}", run.stderr);
    no_build_started(&ws);
}

#[test]
fn undefined_secondary_artifacts_and_missing_secrets_are_found_first() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  parameter-store:\n    TOKEN: /app/token\n  secrets-manager:\n    DB: db-secret:password\nphases:\n  build:\n    commands: [echo hi]\nartifacts:\n  files: [a]\n  secondary-artifacts:\n    docs:\n      files: [b]\n",
    )]);
    let config = ws.path("catalog.yml");
    std::fs::write(
        &config,
        "name: proj\nsecondaryArtifacts:\n  - {type: S3, location: b, artifactIdentifier: bin}\n",
    )
    .expect("catalog");
    let run = ws.run(&["--config", config.to_str().expect("utf-8")]);
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(run.stderr.contains("secondary-artifacts docs are not defined"), "{}", run.stderr);
    assert!(run.stderr.contains("it defines bin"), "{}", run.stderr);
    std::fs::write(
        &config,
        "name: proj\nsecondaryArtifacts:\n  - {type: S3, location: b, artifactIdentifier: docs}\n",
    )
    .expect("catalog");
    let secrets = ws.path("secrets.env");
    std::fs::write(&secrets, "/app/token=t0ken\n").expect("secrets");
    let run = ws.run(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--secrets",
        secrets.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(run.stderr.contains("no value for db-secret in --secrets"), "{}", run.stderr);
    assert!(run.stderr.contains("secrets.env"), "{}", run.stderr);
    assert!(!run.stderr.contains("t0ken"), "a secret value reached stderr");
    no_build_started(&ws);
}

#[test]
fn an_unwritable_summary_is_refused_before_the_build() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n",
    )]);
    let out = kiln()
        .arg("run")
        .arg("--source")
        .arg(ws.source())
        .arg("--data-dir")
        .arg(ws.data())
        .args(["--summary", "/nonexistent/dir/summary.json"])
        .output()
        .expect("kiln");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--summary /nonexistent/dir/summary.json cannot be written")
    );
    no_build_started(&ws);
}

#[test]
fn what_a_local_build_ignores_is_said() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nbatch:\n  build-list:\n    - identifier: a\nphases:\n  build:\n    commands: [echo hi > out.txt]\nartifacts:\n  name: custom-$CODEBUILD_BUILD_NUMBER\n  files: [out.txt]\n",
    )]);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stderr.contains("kiln run --batch is coming"), "{}", run.stderr);
    assert!(run.stderr.contains("artifacts.name is ignored"), "{}", run.stderr);
}

#[test]
fn the_data_dir_ignores_itself_and_the_build_ends_with_a_summary_block() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  exported-variables: [VERSION]\nphases:\n  build:\n    commands:\n      - export VERSION=2.0\n      - echo built > out.txt\nartifacts:\n  files: [out.txt]\n",
    )]);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(
        std::fs::read_to_string(ws.data().join(".gitignore")).expect("ignore file").lines().last(),
        Some("*")
    );
    let tail = run
        .stdout
        .rsplit_once("\nBuild proj #1 SUCCEEDED")
        .map(|(_, t)| t)
        .expect("a summary block");
    assert!(tail.contains("BUILD             SUCCEEDED"), "{tail}");
    assert!(tail.contains("exported VERSION=2.0"), "{tail}");
    assert!(tail.contains("log: data/builds/proj/1/build.log"), "{tail}");
    let uuid = run.uuid();
    assert!(tail.contains(&format!("artifacts: s3://kiln-artifacts/{uuid}/proj")), "{tail}");
    assert!(tail.contains(&format!("data/s3/kiln-artifacts/{uuid}/proj")), "{tail}");
    assert!(!tail.contains('\x1b'), "no colour when not on a terminal: {tail:?}");
    assert_eq!(
        run.summary["logs"]["deepLink"].as_str().map(|l| l.starts_with("file://")),
        Some(true)
    );
    assert!(
        run.summary["artifacts"]["localPath"]
            .as_str()
            .is_some_and(|p| p.ends_with(&format!("kiln-artifacts/{uuid}/proj")))
    );
    let log = std::fs::read_to_string(ws.data().join("builds/proj/1/build.log")).expect("log");
    assert!(!log.contains("exported VERSION"), "the block is not in the log file");
}

#[test]
fn quiet_prints_the_summary_and_the_output_only_on_failure() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo visible-output\n",
    )]);
    let run = ws.run(&["--quiet"]);
    assert_eq!(run.code, Some(0));
    assert!(!run.stdout.contains("visible-output"), "{}", run.stdout);
    assert!(run.stdout.contains("Build proj #1 SUCCEEDED"), "{}", run.stdout);
    ws.write(&[("buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands:\n      - echo visible-output\n      - exit 3\n")]);
    let run = ws.run(&["--quiet"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.contains("visible-output"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Failed BUILD: Error while executing command: exit 3"),
        "{}",
        run.stdout
    );
}

#[test]
fn color_always_colours_and_no_color_wins_over_auto() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n",
    )]);
    let run = ws.run(&["--color", "always"]);
    assert!(run.stdout.contains("\x1b[1;32mSUCCEEDED\x1b[0m"), "{:?}", run.stdout);
    let log = std::fs::read_to_string(ws.data().join("builds/proj/1/build.log")).expect("log");
    assert!(!log.contains('\x1b'), "the log file stays plain");
    let run = ws.run(&["--color", "never"]);
    assert!(!run.stdout.contains('\x1b'));
}
