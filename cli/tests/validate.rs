//! `kiln validate` as users run it: exit codes, text and JSON output, standard input.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

const VALID: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - make\ncache:\n  paths: [x]\n  foo: 1\n";
const INVALID: &str = "version: 0.2\nphases:\n  postbuild:\n    commands:\n      - yes\n";

fn kiln() -> Command {
    Command::cargo_bin("kiln").expect("the kiln binary")
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn valid_file_with_warnings_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "buildspec.yml", VALID);
    let out = kiln().arg("validate").arg(&file).assert().code(0);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let expected_head = format!(
        "{}:8:3: warning: In the section cache The following keys cannot be identified: foo",
        file.display()
    );
    assert!(stdout.starts_with(&expected_head), "{stdout}");
    assert!(stdout.contains("8 |   foo: 1\n  |   ^"), "{stdout}");
    out.stderr(predicate::str::contains("1 file: 1 valid, 0 invalid; 0 errors, 1 warning"));
}

#[test]
fn invalid_file_exits_1_with_every_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "bad.yml", INVALID);
    let out = kiln().arg("validate").arg(&file).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let name = file.display().to_string();
    let heads: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&name)).collect();
    assert_eq!(
        heads,
        vec![
            format!(
                "{name}:3:3: error: Invalid buildspec phase name: POSTBUILD. Expecting: BUILD,INSTALL,POST_BUILD,PRE_BUILD"
            ),
            format!(
                "{name}:5:9: error: Expected Commands[0] to be of string type: YAML reads `yes` as a boolean"
            ),
        ]
    );
    assert!(stdout.contains("= help: did you mean 'post_build'?"), "{stdout}");
}

#[test]
fn missing_file_exits_2_but_checks_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(&dir, "bad.yml", INVALID);
    let missing = dir.path().join("missing.yml");
    kiln()
        .arg("validate")
        .arg(&missing)
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("Invalid buildspec phase name: POSTBUILD"))
        .stderr(predicate::str::contains(format!("cannot read {}", missing.display())))
        .stderr(predicate::str::contains("1 unreadable"));
}

#[test]
fn usage_errors_exit_2() {
    kiln().args(["validate", "--format", "xml", "x.yml"]).assert().code(2);
    kiln().args(["validate", "--config"]).assert().code(2);
}

#[test]
fn json_output_is_one_array() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(&dir, "good.yml", VALID);
    let bad = write(&dir, "bad.yml", INVALID);
    let out = kiln().args(["validate", "--format", "json"]).arg(&good).arg(&bad).assert().code(1);
    let value: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(value[0]["file"], good.display().to_string());
    assert_eq!(value[0]["valid"], true);
    assert_eq!(
        value[0]["diagnostics"][0],
        serde_json::json!({
            "severity": "warning", "line": 8, "column": 3, "path": "cache.foo",
            "message": "In the section cache The following keys cannot be identified: foo",
            "help": null,
        })
    );
    assert_eq!(value[1]["valid"], false);
    assert_eq!(value[1]["diagnostics"][0]["path"], "phases.postbuild");
    assert_eq!(value[1]["diagnostics"][0]["help"], "did you mean 'post_build'?");
    assert_eq!(value[1]["diagnostics"][1]["path"], "phases.postbuild.commands[0]");
}

#[test]
fn dash_reads_standard_input() {
    kiln()
        .args(["validate", "-"])
        .write_stdin(INVALID)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("<stdin>:3:3: error: Invalid buildspec phase name"));
    kiln().args(["validate", "-"]).write_stdin(VALID).assert().code(0);
}

#[test]
fn non_utf8_file_is_invalid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("latin1.yml");
    std::fs::write(&path, b"version: 0.2\nphases: {}\n# caf\xe9\n").expect("write");
    kiln()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(":3:1: error: the file is not UTF-8 text"));
}

#[test]
fn an_endless_input_is_refused_at_the_buildspec_limit() {
    kiln().args(["validate", "/dev/zero"]).assert().code(2).stderr(predicate::str::contains(
        "cannot read /dev/zero: the buildspec is larger than 4 MiB",
    ));
    let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("kiln"))
        .args(["validate", "-"])
        .stdin(zero)
        .output()
        .expect("kiln");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read <stdin>: the buildspec is larger than 4 MiB"), "{stderr}");
}

#[test]
fn a_directory_is_unreadable_not_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    kiln()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Is a directory"));
}

#[test]
fn deep_nesting_is_an_error_at_its_position_not_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - {}x\n",
        "- ".repeat(200_000)
    );
    let file = write(&dir, "deep.yml", &text);
    let out = kiln().arg("validate").arg(&file).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let head = format!(
        "{}:5:{}: error: invalid YAML: lists and mappings nest more than 128 levels deep",
        file.display(),
        9 + 2 * 124
    );
    assert!(stdout.starts_with(&head), "{}", &stdout[..stdout.len().min(500)]);
    assert!(stdout.len() < 2_000, "the 400 KB line is cut around the column");
}

#[test]
fn null_command_items_are_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        &dir,
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n      -\n      - # make lint\n",
    );
    let out = kiln().arg("validate").arg(&file).assert().code(0);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let name = file.display().to_string();
    let heads: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&name)).collect();
    assert_eq!(
        heads,
        [
            format!(
                "{name}:6:7: warning: Commands[1] is empty: YAML reads this item as null; CodeBuild skips it, and so does kiln"
            ),
            format!(
                "{name}:7:7: warning: Commands[2] is empty: YAML reads this item as null; CodeBuild skips it, and so does kiln"
            ),
        ]
    );
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_status_of_a_closed_pipe() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("tempdir");
    // Enough diagnostics (about 1 MB) that kiln must block on the pipe until it is closed.
    let keys: String = (0..5_000).map(|i| format!("unknown_key_{i}: x\n")).collect();
    let file = write(&dir, "noisy.yml", &format!("version: 0.2\nphases: {{}}\n{keys}"));
    let bin = assert_cmd::cargo::cargo_bin("kiln");
    for format in ["text", "json"] {
        let mut child = std::process::Command::new(&bin)
            .args(["validate", "--format", format])
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kiln");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: nothing is said about the closed pipe: {stderr}");
    }
}

/// `kiln validate` in `dir`, as a user runs it there.
fn validate_in(dir: &tempfile::TempDir, args: &[&str]) -> std::process::Output {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("kiln"))
        .current_dir(dir.path())
        .arg("validate")
        .args(args)
        .output()
        .expect("kiln")
}

/// What a run printed, stdout then stderr, for a snapshot.
fn shown(out: &std::process::Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn with_no_file_the_buildspec_of_the_current_directory_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = validate_in(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "kiln validate: no FILE given, and ./buildspec.yml does not exist (name the buildspecs to check, or a catalog with --config FILE)\n"
    );
    write(&dir, "buildspec.yml", INVALID);
    let out = validate_in(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("buildspec.yml:3:3: error: Invalid buildspec phase name: POSTBUILD"),
        "{stdout}"
    );
    write(&dir, "buildspec.yml", VALID);
    assert_eq!(validate_in(&dir, &[]).status.code(), Some(0));
    std::fs::remove_file(dir.path().join("buildspec.yml")).expect("remove");
    std::fs::create_dir(dir.path().join("buildspec.yml")).expect("a directory");
    let out = validate_in(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read buildspec.yml: Is a directory")
    );
}

#[test]
fn misspelt_phase_names_get_a_did_you_mean() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir,
        "buildspec.yml",
        "version: 0.2\nphases:\n  biuld:\n    commands: [make]\n  pre-build:\n    commands: [make]\n  PostBuild:\n    commands: [make]\n",
    );
    let out = validate_in(&dir, &[]);
    let helps: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("= help:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        helps,
        [
            "  = help: did you mean 'build'?",
            "  = help: did you mean 'pre_build'?",
            "  = help: did you mean 'post_build'?",
        ]
    );
}

const CATALOG: &str = "projects:\n  - name: app\n    badgeEnabled: true\n    timeoutInMinutes: 3\n    webhook:\n      filterGroups:\n        - - {type: EVENT, pattern: PUSHH}\n  - name: web\n    environment: {privilegedMode: maybe}\n    colour: blue\n";

#[test]
fn a_catalog_is_checked_alone_with_every_error_at_its_line_and_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir, "catalog.yml", CATALOG);
    let out = validate_in(&dir, &["--config", "catalog.yml"]);
    insta::assert_snapshot!(shown(&out));
    let out = validate_in(&dir, &["--format", "json", "--config", "catalog.yml"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["file"], "catalog.yml");
    assert_eq!(v[0]["kind"], "catalog");
    assert_eq!(v[0]["valid"], false);
    let paths: Vec<&str> = v[0]["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "projects[0].timeoutInMinutes",
            "projects[0].webhook.filterGroups[0][0].pattern",
            "projects[1].environment.privilegedMode",
            "projects[1].colour",
        ]
    );
    write(
        &dir,
        "good.yml",
        "- name: app\n  badgeEnabled: true\n  sourceVersion: main\n  logsConfig: {}\n",
    );
    let out = validate_in(&dir, &["--config", "good.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    assert!(out.stdout.is_empty(), "no warning for CodeBuild's own fields: {}", shown(&out));
}

#[test]
fn a_catalog_given_as_a_buildspec_points_at_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir, "catalog.yml", CATALOG);
    write(&dir, "one.json", "{\"name\": \"app\", \"source\": {\"type\": \"GITHUB\"}}");
    let out = validate_in(&dir, &["catalog.yml", "one.json"]);
    insta::assert_snapshot!(shown(&out));
}

#[test]
fn json_errors_are_called_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir,
        "catalog.json",
        "{\n  \"projects\": [\n    {\"name\": \"app\"}\n    {\"name\": \"web\"}\n  ]\n}\n",
    );
    write(
        &dir,
        "buildspec.json",
        "{\"version\": 0.2, \"phases\": {\"build\": {\"commands\": [\"make\"]}}\n",
    );
    let out = validate_in(&dir, &["--config", "catalog.json", "buildspec.json"]);
    insta::assert_snapshot!(shown(&out));
}
