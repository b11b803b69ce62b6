//! End to end: `kiln resolve` over real deliveries of the shared corpus.

use std::process::Output;

use kiln_tests::kiln;
use serde_json::Value;

const CATALOG: &str = r#"
projects:
  - name: hello
    arn: arn:aws:codebuild:us-east-1:123456789012:project/hello
    source: {type: GITHUB, location: "https://github.com/Codertocat/Hello-World.git"}
    webhook:
      filterGroups:
        - - {type: EVENT, pattern: "PUSH, PULL_REQUEST_CREATED"}
  - name: docs
    source: {type: GITHUB, location: "git@github.com:codertocat/hello-world.git"}
    webhook:
      filterGroups:
        - - {type: EVENT, pattern: PULL_REQUEST_CREATED}
          - {type: FILE_PATH, pattern: "^docs/"}
  - name: elsewhere
    source: {type: GITHUB, location: "https://github.com/other/x"}
    webhook: {filterGroups: [[{type: EVENT, pattern: PUSH}]]}
"#;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(catalog: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("catalog.yaml"), catalog).expect("write");
        Self { dir }
    }

    fn resolve(&self, event_file: &str, event_name: &str, extra: &[&str]) -> Output {
        let corpora = kiln_tests::corpora().expect("corpora");
        kiln()
            .arg("resolve")
            .arg("--config")
            .arg(self.dir.path().join("catalog.yaml"))
            .arg("--event")
            .arg(corpora.join("webhooks").join(event_file))
            .args(["--event-name", event_name])
            .args(extra)
            .output()
            .expect("run kiln")
    }
}

fn json_of(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json output")
}

#[test]
fn push_builds_the_matching_project_with_exact_json_shape() {
    if kiln_tests::corpora().is_none() {
        return;
    }
    let f = Fixture::new(CATALOG);
    let v = json_of(&f.resolve("octokit__push__5.json", "push", &["--json"]));
    let mut keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["builds", "event", "ignored", "skipped"]);
    assert_eq!(v["event"], "PUSH");
    assert_eq!(v["ignored"], Value::Null);
    let builds = v["builds"].as_array().expect("builds");
    assert_eq!(builds.len(), 1);
    let b = &builds[0];
    let mut bkeys: Vec<&str> = b.as_object().expect("build").keys().map(String::as_str).collect();
    bkeys.sort_unstable();
    assert_eq!(bkeys, ["commit", "environmentVariables", "project", "sourceVersion"]);
    assert_eq!(b["project"], "hello");
    assert_eq!(b["sourceVersion"], "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert_eq!(b["commit"], "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    let vars = b["environmentVariables"].as_array().expect("vars");
    let get = |n: &str| vars.iter().find(|v| v["name"] == n).map(|v| v["value"].clone());
    assert_eq!(get("CODEBUILD_WEBHOOK_TRIGGER"), Some("branch/master".into()));
    assert_eq!(get("CODEBUILD_WEBHOOK_EVENT"), Some("PUSH".into()));
    assert!(
        get("CODEBUILD_INITIATOR")
            .is_some_and(|v| v.as_str().is_some_and(|s| s.starts_with("GitHub-Hookshot/")))
    );
}

#[test]
fn pull_request_file_filters_use_changed_files_flag() {
    if kiln_tests::corpora().is_none() {
        return;
    }
    let f = Fixture::new(CATALOG);
    let v =
        json_of(&f.resolve("octokit__pull_request.opened__1.json", "pull_request", &["--json"]));
    let projects: Vec<&str> = v["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .filter_map(|b| b["project"].as_str())
        .collect();
    assert_eq!(projects, ["hello"]);
    let text = f.resolve("octokit__pull_request.opened__1.json", "pull_request", &[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("skip docs: group 1: needs the pull request's changed files"),
        "{stdout}"
    );

    let files = f.dir.path().join("files.txt");
    std::fs::write(&files, "docs/index.md\nREADME.md\n").expect("write");
    let flag = ["--json", "--changed-files", files.to_str().expect("utf-8")];
    let v = json_of(&f.resolve("octokit__pull_request.opened__1.json", "pull_request", &flag));
    let projects: Vec<&str> = v["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .filter_map(|b| b["project"].as_str())
        .collect();
    assert_eq!(projects, ["hello", "docs"]);
    assert_eq!(v["builds"][1]["sourceVersion"], "pr/2");
}

#[test]
fn ignored_events_exit_zero_with_a_reason() {
    if kiln_tests::corpora().is_none() {
        return;
    }
    let f = Fixture::new(CATALOG);
    for (file, name) in [
        ("octokit__ping__1.json", "ping"),
        ("octokit__push__2.json", "push"),
        ("octokit__issue_comment.created__1.json", "issue_comment"),
        ("octokit__release.published__1.json", "release"),
    ] {
        let v = json_of(&f.resolve(file, name, &["--json"]));
        assert_eq!(v["event"], Value::Null, "{file}");
        assert!(v["ignored"].is_string(), "{file}");
        assert_eq!(v["builds"], Value::Array(vec![]), "{file}");
    }
}

#[test]
fn configuration_errors_exit_2_naming_project_and_group() {
    if kiln_tests::corpora().is_none() {
        return;
    }
    let f = Fixture::new(
        "- name: bad\n  source: {location: https://github.com/o/r}\n  webhook:\n    filterGroups:\n      - - {type: HEAD_REF, pattern: main}\n",
    );
    let out = f.resolve("octokit__push__5.json", "push", &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("catalog.yaml:5:9: error: [0].webhook.filterGroups[0]: project bad, filter group 1 has no EVENT filter"),
        "{stderr}"
    );
}

#[test]
fn missing_files_and_bad_payloads_exit_2() {
    let f = Fixture::new(CATALOG);
    let out = kiln()
        .args(["resolve", "--config"])
        .arg(f.dir.path().join("catalog.yaml"))
        .args(["--event", "/nonexistent.json", "--event-name", "push"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let bad = f.dir.path().join("bad.json");
    std::fs::write(&bad, "{\"ref\": 1}").expect("write");
    let out = kiln()
        .args(["resolve", "--config"])
        .arg(f.dir.path().join("catalog.yaml"))
        .arg("--event")
        .arg(&bad)
        .args(["--event-name", "push"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid push payload"));
}

#[test]
fn human_output_lists_builds_variables_and_skips() {
    if kiln_tests::corpora().is_none() {
        return;
    }
    let f = Fixture::new(CATALOG);
    let out = f.resolve(
        "octokit__pull_request.opened__1.json",
        "pull_request",
        &["--user-agent", "GitHub-Hookshot/044aadd"],
    );
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_wrong_type_in_the_catalog_is_shown_at_its_line() {
    if kiln_tests::corpora().is_none() {
        return;
    }
    let f = Fixture::new("- name: app\n  timeoutInMinutes: soon\n");
    let out = f.resolve("octokit__push__5.json", "push", &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "catalog.yaml:2:21: error: [0].timeoutInMinutes: project app: timeoutInMinutes must be a whole number"
        ),
        "{stderr}"
    );
}

/// A push to `o/r` on branch `main`, in GitHub's shape (only the fields kiln reads).
const PUSH: &str = r#"{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000",
  "after":"1111111111111111111111111111111111111111","created":true,"deleted":false,
  "forced":false,"commits":[],"head_commit":{"message":"change"},
  "repository":{"full_name":"o/r","html_url":"https://github.com/o/r"},"sender":{"id":7}}"#;

fn resolve_push(catalog: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("catalog.yaml"), catalog).expect("catalog");
    std::fs::write(dir.path().join("push.json"), PUSH).expect("event");
    kiln()
        .arg("resolve")
        .arg("--config")
        .arg(dir.path().join("catalog.yaml"))
        .arg("--event")
        .arg(dir.path().join("push.json"))
        .args(["--event-name", "push"])
        .args(extra)
        .output()
        .expect("run kiln")
}

const TWO_HOSTS: &str = "- name: on-github\n  source: {location: 'git@github.com:o/r.git'}\n  webhook: {}\n- name: on-gitlab\n  source: {location: 'https://gitlab.example.com/o/r'}\n  webhook: {}\n";

#[test]
fn a_project_on_another_host_does_not_build() {
    let out = resolve_push(TWO_HOSTS, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("build on-github: source version"), "{stdout}");
    assert!(
        stdout.contains("skip on-gitlab: the project watches another host: its source.location is on gitlab.example.com, deliveries come from github.com"),
        "{stdout}"
    );
    let ghe = resolve_push(TWO_HOSTS, &["--json", "--github-host", "gitlab.example.com"]);
    let v = json_of(&ghe);
    let projects: Vec<&str> = v["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .filter_map(|b| b["project"].as_str())
        .collect();
    assert_eq!(projects, ["on-gitlab"]);
}

#[test]
fn an_invalid_branch_filter_is_a_configuration_error() {
    let catalog = "- name: app\n  source: {location: 'https://github.com/o/r'}\n  webhook:\n    branchFilter: '^(main'\n";
    let out = resolve_push(catalog, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("catalog.yaml:4:19: error: [0].webhook.branchFilter: project app: branchFilter \"^(main\" is not a valid regular expression"),
        "{stderr}"
    );
}

#[test]
fn an_endless_event_file_is_refused_at_the_delivery_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("catalog.yaml"), TWO_HOSTS).expect("catalog");
    let out = kiln()
        .arg("resolve")
        .arg("--config")
        .arg(dir.path().join("catalog.yaml"))
        .args(["--event", "/dev/zero", "--event-name", "push"])
        .output()
        .expect("run kiln");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read /dev/zero: the delivery body is larger than 25 MiB"),
        "{stderr}"
    );
    let out = kiln()
        .args(["resolve", "--config", "/dev/zero", "--event", "/dev/null", "--event-name", "push"])
        .output()
        .expect("run kiln");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read /dev/zero: the project catalog is larger than 16 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_deeply_nested_catalog_is_an_error_not_a_crash() {
    let catalog = format!("- name: app\n  tags:\n    - {}x\n", "- ".repeat(200_000));
    let out = resolve_push(&catalog, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lists and mappings nest more than 128 levels deep"), "{stderr}");
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_status_of_a_closed_pipe() {
    use std::process::Stdio;
    // 2,000 projects that all build: far more output than a pipe holds.
    let catalog: String = (0..2_000)
        .map(|i| format!("- name: project-{i}\n  source: {{location: 'https://github.com/o/r'}}\n  webhook: {{}}\n"))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("catalog.yaml"), catalog).expect("catalog");
    std::fs::write(dir.path().join("push.json"), PUSH).expect("event");
    for json in [false, true] {
        let mut cmd = kiln();
        cmd.arg("resolve")
            .arg("--config")
            .arg(dir.path().join("catalog.yaml"))
            .arg("--event")
            .arg(dir.path().join("push.json"))
            .args(["--event-name", "push"]);
        if json {
            cmd.arg("--json");
        }
        let mut child =
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run kiln");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "json={json}: {stderr}");
        assert!(!stderr.contains("panicked"), "json={json}: {stderr}");
        assert!(stderr.is_empty(), "json={json}: {stderr}");
    }
}

/// A pull request opened on `o/r` from a branch of `o/r`, in GitHub's shape (only the fields
/// kiln reads).
const PULL_REQUEST: &str = r#"{"action":"opened","number":7,"pull_request":{"number":7,
  "head":{"ref":"feature","sha":"2222222222222222222222222222222222222222","repo":{"full_name":"o/r"}},
  "base":{"ref":"main","sha":"3333333333333333333333333333333333333333","repo":{"full_name":"o/r"}}},
  "repository":{"full_name":"o/r","html_url":"https://github.com/o/r"},"sender":{"id":7}}"#;

/// `kiln resolve` of `body` named `event_name` against `catalog`, in a fresh directory.
fn resolve_body(catalog: &str, body: &str, event_name: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("catalog.yaml"), catalog).expect("catalog");
    std::fs::write(dir.path().join("event.json"), body).expect("event");
    kiln()
        .current_dir(dir.path())
        .args(["resolve", "--config", "catalog.yaml", "--event", "event.json"])
        .args(["--event-name", event_name])
        .args(extra)
        .output()
        .expect("run kiln")
}

const ONE_PROJECT: &str =
    "- name: app\n  source: {location: 'https://github.com/o/r'}\n  webhook: {}\n";

#[test]
fn a_payload_named_as_another_event_says_which_event_it_looks_like() {
    let out = resolve_body(ONE_PROJECT, PULL_REQUEST, "push", &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr,
        "kiln resolve: event.json: the payload looks like a pull_request delivery (it has pull_request and action); --event-name is push\n"
    );
    let out = resolve_body(ONE_PROJECT, PUSH, "pull_request", &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the payload looks like a push delivery (it has ref, before and after); --event-name is pull_request"),
        "{stderr}"
    );
    let out = resolve_body(ONE_PROJECT, PUSH, "ping", &[]);
    assert_eq!(out.status.code(), Some(2), "a push named ping is not answered as a ping");
    let out = resolve_body(ONE_PROJECT, PULL_REQUEST, "pull_request", &["--json"]);
    let v = json_of(&out);
    assert_eq!(v["builds"][0]["project"], "app");
}

#[test]
fn an_event_name_github_never_sends_is_an_error_with_the_closest_name() {
    let out = resolve_body(ONE_PROJECT, PUSH, "pushh", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "kiln resolve: --event-name: \"pushh\" is not an event GitHub sends; did you mean push?\n"
    );
    let out = resolve_body(ONE_PROJECT, PULL_REQUEST, "PullRequest", &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean pull_request?"));
    for real in ["issue_comment", "create", "workflow_job", "star"] {
        let v = json_of(&resolve_body(ONE_PROJECT, PUSH, real, &["--json"]));
        assert_eq!(v["event"], Value::Null, "{real}");
        assert!(v["ignored"].is_string(), "{real}: {v}");
        assert_eq!(v["builds"], Value::Array(vec![]), "{real}");
    }
}

const THREE_REPOSITORIES: &str = "- name: app\n  source: {location: 'https://github.com/o/r'}\n  webhook: {}\n- name: other\n  source: {location: 'https://github.com/Octo/Other.git'}\n  webhook: {}\n- name: lab\n  source: {location: 'https://gitlab.example.com/octo/lab'}\n  webhook: {}\n- name: quiet\n  source: {location: 'https://github.com/o/r'}\n";

#[test]
fn projects_that_watch_another_repository_are_listed_as_skipped() {
    let out = resolve_body(THREE_REPOSITORIES, PUSH, "push", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let skips: Vec<&str> = stdout.lines().filter(|l| l.starts_with("skip ")).collect();
    assert_eq!(
        skips,
        [
            "skip quiet: the project has no webhook",
            "skip other: watches octo/other",
            "skip lab: watches octo/lab on gitlab.example.com",
        ]
    );
    let v = json_of(&resolve_body(THREE_REPOSITORIES, PUSH, "push", &["--json"]));
    assert_eq!(
        v["skipped"],
        serde_json::json!([
            {"project": "quiet", "reason": "the project has no webhook"},
            {"project": "other", "reason": "watches octo/other"},
            {"project": "lab", "reason": "watches octo/lab on gitlab.example.com"},
        ])
    );
    assert_eq!(v["builds"][0]["project"], "app");
    let nobody =
        "- name: other\n  source: {location: 'https://github.com/octo/other'}\n  webhook: {}\n";
    let v = json_of(&resolve_body(nobody, PUSH, "push", &["--json"]));
    assert_eq!(v["ignored"], "no project builds o/r");
    assert_eq!(
        v["skipped"],
        serde_json::json!([{"project": "other", "reason": "watches octo/other"}])
    );
}

const FILTERED: &str = "- name: docs\n  source: {location: 'https://github.com/o/r'}\n  webhook:\n    filterGroups:\n      - - {type: EVENT, pattern: PULL_REQUEST_CREATED}\n        - {type: FILE_PATH, pattern: '^docs/'}\n- name: release\n  source: {location: 'https://github.com/o/r'}\n  webhook:\n    filterGroups:\n      - - {type: EVENT, pattern: PULL_REQUEST_CREATED}\n        - {type: COMMIT_MESSAGE, pattern: '^release'}\n";

#[test]
fn the_flags_are_the_source_host_of_intake() {
    let built = |out: &Output| -> Vec<String> {
        json_of(out)["builds"]
            .as_array()
            .expect("builds")
            .iter()
            .filter_map(|b| b["project"].as_str().map(str::to_owned))
            .collect()
    };
    let v = json_of(&resolve_body(FILTERED, PULL_REQUEST, "pull_request", &["--json"]));
    assert_eq!(
        v["skipped"],
        serde_json::json!([
            {"project": "docs", "reason": "group 1: needs the pull request's changed files, which kiln was not given"},
            {"project": "release", "reason": "group 1: needs the pull request's head commit message, which kiln was not given"},
        ])
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("files.txt");
    std::fs::write(&files, "docs/a.md\n\nsrc/b.rs\n").expect("files");
    let files = files.to_str().expect("utf-8");
    let both = ["--json", "--changed-files", files, "--commit-message", "release 1.2"];
    assert_eq!(
        built(&resolve_body(FILTERED, PULL_REQUEST, "pull_request", &both)),
        ["docs", "release"]
    );
    let out = resolve_body(
        FILTERED,
        PULL_REQUEST,
        "pull_request",
        &["--json", "--commit-message", "release 1.2"],
    );
    assert_eq!(built(&out), ["release"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "kiln resolve: --commit-message without --changed-files: the pull request is taken to change no files\n"
    );
    let skip = ["--json", "--changed-files", files, "--commit-message", "release [skip ci]"];
    assert_eq!(
        built(&resolve_body(FILTERED, PULL_REQUEST, "pull_request", &skip)),
        Vec::<String>::new()
    );
}

#[test]
fn json_catalog_errors_are_called_json() {
    let catalog =
        "{\n  \"projects\": [\n    {\"name\": \"app\"}\n    {\"name\": \"web\"}\n  ]\n}\n";
    let out = resolve_body(catalog, PUSH, "push", &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("kiln resolve: invalid catalog catalog.yaml\ncatalog.yaml:4:5: error: invalid JSON: expected `,` or `]`\n"), "{stderr}");
    assert!(!stderr.contains("YAML"), "{stderr}");
}
