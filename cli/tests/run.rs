//! `kiln run` as users call it: flags, exit codes, summary file, the quickstart example.

use std::path::Path;

use assert_cmd::Command;

fn kiln() -> Command {
    Command::cargo_bin("kiln").expect("kiln binary")
}

fn project(dir: &Path, buildspec: &str) -> std::path::PathBuf {
    let source = dir.join("proj");
    std::fs::create_dir_all(&source).expect("source");
    std::fs::write(source.join("buildspec.yml"), buildspec).expect("buildspec");
    source
}

#[test]
fn exit_codes_and_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source =
        project(dir.path(), "version: 0.2\nphases:\n  build:\n    commands:\n      - echo built\n");
    let summary = dir.path().join("summary.json");
    let output = kiln()
        .args(["run", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--source")
        .arg(&source)
        .arg("--summary")
        .arg(&summary)
        .args(["--env", "X=1", "--timeout", "90s"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Running command echo built\nbuilt\n"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    assert_eq!(json["buildStatus"], "SUCCEEDED");
    assert_eq!(json["buildNumber"], 1);
    assert!(json["id"].as_str().is_some_and(|id| id.starts_with("proj:")));
    let types: Vec<&str> = json["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .filter_map(|p| p["phaseType"].as_str())
        .collect();
    assert_eq!(types.first(), Some(&"SUBMITTED"));
    assert_eq!(types.last(), Some(&"COMPLETED"));
    let log = dir.path().join("data/builds/proj/1/build.log");
    assert!(std::fs::read_to_string(log).expect("log file").contains("Running command echo built"));

    std::fs::write(
        source.join("buildspec.yml"),
        "version: 0.2\nphases:\n  build:\n    commands: ['false']\n",
    )
    .expect("write");
    let output = kiln()
        .args(["run", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--source")
        .arg(&source)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = project(dir.path(), "version: 0.2\n");
    let config = dir.path().join("projects.json");
    std::fs::write(&config, r#"{"projects":[{"name":"alpha"},{"name":"beta"}]}"#).expect("config");
    let output = kiln()
        .args(["run", "--project", "gamma", "--config"])
        .arg(&config)
        .arg("--source")
        .arg(&source)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gamma") && stderr.contains("alpha, beta"), "{stderr}");
    for bad in [
        &["run", "--timeout", "5x"][..],
        &["run", "--env", "NOEQUALS"],
        &["run", "--source", "/nonexistent/kiln"],
    ] {
        let output =
            kiln().args(bad).arg("--data-dir").arg(dir.path().join("data")).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
    }
    for (timeout, says) in [
        ("18446744073709551615s", "at most 36h"),
        ("5", "give a unit, as in 5m"),
        ("0s", "more than zero"),
    ] {
        let output = kiln()
            .args(["run", "--timeout", timeout, "--source"])
            .arg(&source)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{timeout}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{timeout}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(!dir.path().join("data/numbers").exists(), "no build number was taken");
    for (args, says) in [
        (&["--config", "/dev/zero"][..], "the project catalog is larger than 16 MiB"),
        (&["--event", "/dev/zero", "--event-name", "push"][..], "larger than 25"),
        (&["--event", "/dev/null", "--event-name", "pushh"][..], "did you mean push"),
    ] {
        let output = kiln()
            .arg("run")
            .args(args)
            .arg("--source")
            .arg(&source)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// The README's first command, as a newcomer runs it: in a directory of their own, with a fresh
/// `HOME` and no data directory yet; what it prints ends with the summary block, naming the
/// exported variable and where the artifact is on disk.
#[test]
fn the_readmes_first_command_does_what_the_readme_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let command = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.lines().next())
        .expect("the README's first command");
    let args: Vec<&str> = command
        .strip_prefix("cargo run -p kiln -- ")
        .unwrap_or_else(|| panic!("the first command runs kiln through cargo: {command}"))
        .split_whitespace()
        .collect();
    assert_eq!(args[..2], ["run", "--source"], "{command}");
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let output = kiln()
        .args(["run", "--source"])
        .arg(root.join(args[2]))
        .args(&args[3..])
        .current_dir(dir.path())
        .env("HOME", &home)
        .env_remove("NO_COLOR")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Hello from kiln, built at"), "{stdout}");
    let block = stdout
        .rsplit_once("\nBuild quickstart #1 SUCCEEDED")
        .map(|(_, b)| b)
        .expect("the summary block");
    assert!(block.contains("exported APP_VERSION=1.0.1"), "{block}");
    let local = block
        .lines()
        .find(|l| l.trim_start().starts_with(".kiln/s3/kiln-artifacts/"))
        .unwrap_or_else(|| panic!("the artifact's local path:\n{block}"));
    assert!(dir.path().join(local.trim()).join("greeting.txt").is_file(), "{local}");
    assert!(readme.contains(".kiln/s3/kiln-artifacts/"), "the README says where artifacts land");
    assert!(
        std::fs::read_to_string(dir.path().join(".kiln/.gitignore")).is_ok_and(|t| t.contains('*'))
    );
    assert!(
        !root.join("examples/quickstart/dist").exists(),
        "the build must not write into the example"
    );
}

/// A build started from a delivery file sees the variables the cloud build would (T34–T37),
/// and a delivery that builds nothing is refused before a build number is taken.
mod event {
    use super::{kiln, project};

    const BEFORE: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const AFTER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const HEAD: &str = "cccccccccccccccccccccccccccccccccccccccc";
    const DUMP: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - env | grep -E '^CODEBUILD_(WEBHOOK|SOURCE|RESOLVED|INITIATOR)' | sort > \"$CODEBUILD_SRC_DIR/../vars.txt\"\n";

    fn repo() -> serde_json::Value {
        serde_json::json!({"full_name": "octo/repo", "name": "repo", "owner": {"login": "octo"},
            "clone_url": "https://github.com/octo/repo.git", "html_url": "https://github.com/octo/repo"})
    }

    /// Runs a build of a fresh project from `payload` and returns the variables it saw.
    fn variables(event_name: &str, payload: &serde_json::Value) -> Vec<(String, String)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = project(dir.path(), DUMP);
        let event = dir.path().join("event.json");
        std::fs::write(&event, payload.to_string()).expect("event");
        let output = kiln()
            .arg("run")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--source")
            .arg(&source)
            .arg("--event")
            .arg(&event)
            .args(["--event-name", event_name])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let vars = dir.path().join("data/builds/proj/1/vars.txt");
        std::fs::read_to_string(&vars)
            .expect("variables written by the build")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn push(git_ref: &str) -> serde_json::Value {
        serde_json::json!({
            "ref": git_ref, "before": BEFORE, "after": AFTER, "created": false, "deleted": false,
            "forced": false, "commits": [], "head_commit": {"id": AFTER, "message": "change"},
            "repository": repo(), "sender": {"id": 7, "login": "u"}
        })
    }

    #[test]
    fn t34_push_to_a_branch() {
        let vars = variables("push", &push("refs/heads/main"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_EVENT"), Some("PUSH"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_TRIGGER"), Some("branch/main"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_HEAD_REF"), Some("refs/heads/main"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_PREV_COMMIT"), Some(BEFORE));
        assert_eq!(get(&vars, "CODEBUILD_SOURCE_VERSION"), Some(AFTER));
        assert_eq!(get(&vars, "CODEBUILD_RESOLVED_SOURCE_VERSION"), Some(AFTER));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_BASE_REF").unwrap_or(""), "");
        assert!(
            get(&vars, "CODEBUILD_INITIATOR").is_some_and(|i| i.starts_with("GitHub-Hookshot/"))
        );
    }

    #[test]
    fn t35_pull_request_opened() {
        let payload = serde_json::json!({
            "action": "opened", "number": 8,
            "pull_request": {"number": 8, "draft": false, "merged": false, "title": "t",
                "head": {"ref": "feat", "sha": HEAD, "repo": repo()},
                "base": {"ref": "main", "sha": BEFORE, "repo": repo()}},
            "repository": repo(), "sender": {"id": 583_231, "login": "u"}
        });
        let vars = variables("pull_request", &payload);
        assert_eq!(get(&vars, "CODEBUILD_SOURCE_VERSION"), Some("pr/8"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_TRIGGER"), Some("pr/8"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_EVENT"), Some("PULL_REQUEST_CREATED"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_HEAD_REF"), Some("refs/heads/feat"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_BASE_REF"), Some("refs/heads/main"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID"), Some("583231"));
        assert_eq!(get(&vars, "CODEBUILD_RESOLVED_SOURCE_VERSION"), Some(HEAD));
    }

    #[test]
    fn t36_push_of_a_tag() {
        let vars = variables("push", &push("refs/tags/v1.2.0"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_TRIGGER"), Some("tag/v1.2.0"));
        assert_eq!(get(&vars, "CODEBUILD_WEBHOOK_HEAD_REF"), Some("refs/tags/v1.2.0"));
    }

    #[test]
    fn a_delivery_that_builds_nothing_takes_no_build_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = project(dir.path(), DUMP);
        let event = dir.path().join("ping.json");
        std::fs::write(&event, r#"{"zen": "Keep it logically awesome.", "hook_id": 1}"#)
            .expect("event");
        let data = dir.path().join("data");
        let output = kiln()
            .arg("run")
            .arg("--data-dir")
            .arg(&data)
            .arg("--source")
            .arg(&source)
            .arg("--event")
            .arg(&event)
            .args(["--event-name", "ping"])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("ping.json") && stderr.contains("builds nothing"), "{stderr}");
        assert!(!data.join("builds").exists(), "no working copy or build number for a ping");
    }
}
