//! Build semantics beyond the numbered cases: secret masking in the log, retries, secrets from
//! the secrets port, run-as, exported variables, the summary.

#[allow(dead_code, reason = "the harness serves several test binaries; each uses part of it")]
mod harness;

use harness::Project;

#[test]
fn secrets_are_masked_whole_inside_lines_and_split_across_writes() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  exported-variables: [TOKEN, DB]\n  parameter-store:\n    TOKEN: /app/token\n  secrets-manager:\n    DB: db-secret:password\nphases:\n  build:\n    commands:\n      - echo \"$TOKEN\"\n      - echo \"the token is ${TOKEN}, keep it\"\n      - \"printf 'split: s3cr'; sleep 0.3; printf 'et-t0ken\\\\n'\"\n      - echo \"$DB\" >&2\n      - echo \"$TOKEN\" | rev\n      - test \"$TOKEN\" = s3cret-t0ken\n",
    )]);
    let out = p.run_with(
        &p.options(),
        "/app/token=s3cret-t0ken\ndb-secret={\"password\":\"pa55word!\"}\n",
    );
    assert_eq!(out.status(), "SUCCEEDED", "{}", out.log);
    assert!(!out.log.contains("s3cret-t0ken"), "{}", out.log);
    assert!(!out.log.contains("pa55word!"), "{}", out.log);
    assert!(out.log.contains("\n***\n"));
    assert!(out.log.contains("the token is ***, keep it"));
    assert!(out.log.contains("split: ***\n"));
    assert!(out.log.contains("nek0t-terc3s"), "a transformed value is not masked");
    assert_eq!(
        out.summary["exportedEnvironmentVariables"],
        serde_json::json!([]),
        "secrets are never exported"
    );
}

/// A plain variable that holds a secret is exported with the secret masked, as in the log.
#[test]
fn a_secret_copied_into_an_exported_variable_is_masked_in_the_summary() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  exported-variables: [PLAIN, URL]\n  parameter-store:\n    TOKEN: /app/token\nphases:\n  build:\n    commands:\n      - export PLAIN=$TOKEN\n      - export URL=https://u:$TOKEN@example.com\n",
    )]);
    let out = p.run_with(&p.options(), "/app/token=s3cret-t0ken\n");
    assert_eq!(out.status(), "SUCCEEDED", "{}", out.log);
    assert_eq!(
        out.summary["exportedEnvironmentVariables"],
        serde_json::json!([{"name": "PLAIN", "value": "***"}, {"name": "URL", "value": "https://u:***@example.com"}])
    );
}

#[test]
fn missing_secrets_fail_download_source_naming_them() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  parameter-store:\n    A: /missing/a\n  secrets-manager:\n    B: missing-b\nphases:\n  build:\n    commands: [touch b]\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase("DOWNLOAD_SOURCE").as_deref(), Some("FAILED"));
    let (_, message) = out.context("DOWNLOAD_SOURCE").expect("context");
    assert!(message.contains("/missing/a") && message.contains("missing-b"), "{message}");
    assert!(out.file("b").is_none());
}

#[test]
fn retry_reruns_the_phase_until_it_passes() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    on-failure: RETRY-3\n    commands:\n      - echo run >> runs.txt\n      - test $(wc -l < runs.txt) -ge 3\n    finally:\n      - echo f >> finally.txt\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase("BUILD").as_deref(), Some("SUCCEEDED"), "{}", out.log);
    assert_eq!(out.file("runs.txt").map(|s| s.lines().count()), Some(3));
    assert_eq!(out.file("finally.txt").as_deref(), Some("f"));
    assert_eq!(out.status(), "SUCCEEDED");
}

#[test]
fn retry_with_a_regex_stops_when_the_output_does_not_match() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    on-failure: RETRY-5-flaky\n    commands:\n      - echo run >> runs.txt\n      - 'if [ $(wc -l < runs.txt) -lt 2 ]; then echo flaky; else echo broken; fi; false'\n",
    )]);
    let out = p.run();
    assert_eq!(out.file("runs.txt").map(|s| s.lines().count()), Some(2));
    assert_eq!(out.phase("BUILD").as_deref(), Some("FAILED"));
}

#[test]
fn exported_variables_reach_the_summary() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  exported-variables: [VERSION, PLAIN, NEVER_SET]\nphases:\n  build:\n    commands:\n      - export VERSION=1.2.3\n  post_build:\n    commands:\n      - PLAIN=p\n",
    )]);
    let out = p.run();
    assert_eq!(
        out.summary["exportedEnvironmentVariables"],
        serde_json::json!([{"name": "VERSION", "value": "1.2.3"}, {"name": "PLAIN", "value": "p"}])
    );
}

#[test]
fn run_as_switches_user_when_root() {
    let root =
        std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n");
    let user_exists =
        std::process::Command::new("id").arg("nobody").output().is_ok_and(|o| o.status.success());
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    run-as: nobody\n    commands:\n      - id -un\n",
    )]);
    let out = p.run();
    if root && user_exists {
        assert_eq!(out.phase("BUILD").as_deref(), Some("SUCCEEDED"), "{}", out.log);
        assert!(out.log.contains("\nnobody\n"), "{}", out.log);
    } else {
        assert_eq!(out.phase("DOWNLOAD_SOURCE").as_deref(), Some("FAILED"));
        let (_, message) = out.context("DOWNLOAD_SOURCE").expect("context");
        assert!(message.contains("run-as nobody"), "{message}");
    }
}

#[test]
fn log_has_codebuild_lines_and_streams_output_in_order() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo one; echo two >&2; echo three\n      - exit 4\n",
    )]);
    let out = p.run();
    let re = regex::Regex::new(r"^\[Container\] \d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d{6} ")
        .expect("regex");
    let lines: Vec<&str> = out.log.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with("Running command echo one; echo two >&2; echo three"))
        .expect("line");
    assert!(re.is_match(lines[at]));
    assert_eq!(lines[at + 1..at + 4], ["one", "two", "three"]);
    assert!(lines[at + 4].ends_with("Running command exit 4"));
    assert!(lines[at + 5].ends_with("Command did not exit successfully exit 4 exit status 4"));
    assert!(lines[at + 6].ends_with("Phase complete: BUILD State: FAILED"));
    assert!(lines[at + 7].ends_with(
        "Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: exit 4. Reason: exit status 4"
    ));
}

#[test]
fn working_copy_leaves_the_source_clean_and_in_place_does_not_copy() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [touch made-by-build]\n",
    )]);
    let out = p.run();
    assert!(out.src.join("made-by-build").exists());
    assert!(!p.source.join("made-by-build").exists());
    let mut options = p.options();
    options.in_place = true;
    let out = p.run_with(&options, "");
    assert_eq!(out.src, p.source.canonicalize().expect("canonical"));
    assert!(p.source.join("made-by-build").exists());
}

#[test]
fn a_build_through_the_in_process_runner_reads_back_as_the_typed_summary() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  exported-variables: [OUT]\nphases:\n  build:\n    commands:\n      - export OUT=done\n      - exit 3\n",
    )]);
    let out = p.run();
    let s = &out.typed;
    assert_eq!(s.build_status, kiln_core::build::Status::Failed);
    assert_eq!(s.build_number, 1);
    assert_eq!(s.project_name, "proj");
    assert!(s.id.starts_with("proj:"), "{}", s.id);
    let failing = s.failing_phase().expect("a failing phase");
    assert_eq!(failing.phase_type, kiln_core::build::PhaseType::Build, "{}", out.log);
    assert_eq!(failing.contexts[0].status_code, "COMMAND_EXECUTION_ERROR");
    assert_eq!(s.exported_environment_variables, [kiln_core::build::NameValue::new("OUT", "done")]);
    assert_eq!(s.phases.last().map(|p| p.phase_type), Some(kiln_core::build::PhaseType::Completed));
    let again = p.run();
    assert_eq!(again.typed.build_number, 2);
}

#[test]
fn empty_command_items_are_skipped_and_said_as_codebuild_runs_them() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo one > one.txt\n      -\n      - # was: make lint\n      - echo two > two.txt\n      -\n    finally:\n      - echo f > f.txt\n      -\n",
    )]);
    let out = p.run();
    assert_eq!(out.status(), "SUCCEEDED", "{}", out.log);
    assert_eq!(out.file("two.txt").as_deref(), Some("two"));
    for line in [
        "Skipping empty command Commands[1] at line 6",
        "Skipping empty command Commands[2] at line 7",
        "Skipping empty command Commands[4] at line 9",
        "Skipping empty command Finally[1] at line 12",
    ] {
        assert!(out.log.contains(line), "{line} missing:\n{}", out.log);
    }
    let one = out.log.find("Commands[1]").unwrap_or(0);
    let two = out.log.find("Running command echo two").unwrap_or(0);
    assert!(one < two, "the skip is said where the item is");
}
