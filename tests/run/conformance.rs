//! Spec §8.1 and §8.2, T01–T33: real buildspecs run by the agent with real processes,
//! checking phases, statuses, files written and variables seen.

#[allow(dead_code, reason = "the harness serves several test binaries; each uses part of it")]
mod harness;

use harness::{ALL_PHASES, Project};

fn phases(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn t01_every_phase_succeeds() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  install:\n    commands: [echo x]\n  pre_build:\n    commands: [echo x]\n  build:\n    commands: [echo x]\n  post_build:\n    commands:\n      - echo $CODEBUILD_BUILD_SUCCEEDING > s.txt\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase_types(), phases(&ALL_PHASES));
    assert!(
        out.phases().iter().filter(|(t, _)| t != "COMPLETED").all(|(_, s)| s == "SUCCEEDED"),
        "{:?}",
        out.phases()
    );
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(out.file("s.txt").as_deref(), Some("1"));
    assert_eq!(out.log.matches("Running command echo x").count(), 3);
}

#[test]
fn t02_install_failure_skips_everything_but_finally() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  install:\n    commands:\n      - echo ok\n      - 'false'\n      - touch c\n    finally:\n      - touch f\n  pre_build:\n    commands: [touch pre]\n  build:\n    commands: [touch build]\n  post_build:\n    commands: [touch post]\n",
    )]);
    let out = p.run();
    assert!(out.file("c").is_none());
    assert!(out.file("f").is_some());
    assert_eq!(out.phase("INSTALL").as_deref(), Some("FAILED"));
    let (code, message) = out.context("INSTALL").expect("context");
    assert_eq!(code, "COMMAND_EXECUTION_ERROR");
    assert_eq!(message, "Error while executing command: false. Reason: exit status 1");
    assert_eq!(
        out.phase_types(),
        phases(&["DOWNLOAD_SOURCE", "INSTALL", "FINALIZING", "COMPLETED"])
    );
    for f in ["pre", "build", "post"] {
        assert!(out.file(f).is_none(), "{f}");
    }
    assert_eq!(out.status(), "FAILED");
    assert!(out.log.contains("Command did not exit successfully false exit status 1"));
    assert!(out.log.contains("Phase complete: INSTALL State: FAILED"));
}

#[test]
fn t03_pre_build_failure_skips_build_post_build_and_upload() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  pre_build:\n    commands: ['false']\n  build:\n    commands: [touch build]\n  post_build:\n    commands: [touch post]\nartifacts:\n  files: ['**/*']\n",
    )]);
    let out = p.run();
    assert_eq!(
        out.phase_types(),
        phases(&["DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "FINALIZING", "COMPLETED"])
    );
    assert!(out.file("build").is_none() && out.file("post").is_none());
    assert!(out.objects.is_empty(), "{:?}", out.objects);
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t04_build_failure_runs_post_build_with_succeeding_0() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: ['false']\n  post_build:\n    commands:\n      - echo $CODEBUILD_BUILD_SUCCEEDING > s.txt\n",
    )]);
    let out = p.run();
    assert_eq!(out.file("s.txt").as_deref(), Some("0"));
    assert_eq!(out.phase("POST_BUILD").as_deref(), Some("SUCCEEDED"));
    assert!(out.phase("UPLOAD_ARTIFACTS").is_some());
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t05_post_build_failure_still_uploads() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [echo out > out.txt]\n  post_build:\n    commands: ['false']\nartifacts:\n  files: [out.txt]\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase("POST_BUILD").as_deref(), Some("FAILED"));
    assert_eq!(out.phase("UPLOAD_ARTIFACTS").as_deref(), Some("SUCCEEDED"));
    assert_eq!(out.objects.len(), 1, "{:?}", out.objects);
    assert!(
        out.objects[0].starts_with("kiln-artifacts/") && out.objects[0].ends_with("/proj/out.txt"),
        "{:?}",
        out.objects
    );
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t06_later_success_does_not_clear_a_failure() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: ['false']\n  post_build:\n    commands: [touch p]\n",
    )]);
    let out = p.run();
    assert!(out.file("p").is_some());
    assert_eq!(out.phase("POST_BUILD").as_deref(), Some("SUCCEEDED"));
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t07_failing_finally_fails_the_phase() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [echo b]\n    finally: ['false']\n  post_build:\n    commands:\n      - echo $CODEBUILD_BUILD_SUCCEEDING > s.txt\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase("BUILD").as_deref(), Some("FAILED"));
    assert_eq!(out.file("s.txt").as_deref(), Some("0"));
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t08_failure_skips_the_rest_and_runs_finally() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - 'false'\n      - echo B > b\n    finally:\n      - echo F > f\n      - echo $CODEBUILD_BUILD_SUCCEEDING > fs\n",
    )]);
    let out = p.run();
    assert_eq!(out.file("f").as_deref(), Some("F"));
    assert!(out.file("b").is_none());
    assert_eq!(out.file("fs").as_deref(), Some("0"), "SUCCEEDING inside finally after a failure");
    assert!(!out.ran("echo B > b"));
}

#[test]
fn t09_continue_after_pre_build() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  pre_build:\n    on-failure: CONTINUE\n    commands: ['false']\n  build:\n    commands:\n      - echo $CODEBUILD_BUILD_SUCCEEDING > s\n  post_build:\n    commands: [touch p]\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase("PRE_BUILD").as_deref(), Some("FAILED"));
    assert_eq!(out.file("s").as_deref(), Some("0"));
    assert!(out.file("p").is_some());
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t10_continue_after_install() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  install:\n    on-failure: CONTINUE\n    commands: ['false']\n  pre_build:\n    commands: [touch a]\n  build:\n    commands: [touch b]\n  post_build:\n    commands: [touch c]\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase_types(), phases(&ALL_PHASES));
    for f in ["a", "b", "c"] {
        assert!(out.file(f).is_some(), "{f}");
    }
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t11_abort_stops_at_once() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    on-failure: ABORT\n    commands: ['false']\n  post_build:\n    commands: [touch p]\n",
    )]);
    let out = p.run();
    assert!(out.file("p").is_none());
    assert_eq!(
        out.phase_types(),
        phases(&["DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD", "FINALIZING", "COMPLETED"])
    );
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t12_cwd_kept_across_phases() {
    let p = Project::new(&[
        ("sub/keep", ""),
        (
            "buildspec.yml",
            "version: 0.2\nphases:\n  install:\n    commands: [cd sub]\n  build:\n    commands:\n      - pwd > $CODEBUILD_SRC_DIR/p.txt\n",
        ),
    ]);
    let out = p.run();
    assert_eq!(out.file("p.txt"), Some(out.src.join("sub").to_string_lossy().into_owned()));
    assert_eq!(out.status(), "SUCCEEDED");
}

#[test]
fn t13_exported_variable_kept_across_phases() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  pre_build:\n    commands: [export FOO=bar]\n  build:\n    commands:\n      - test \"$FOO\" = bar\n      - sh -c 'echo $FOO' > child.txt\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase("BUILD").as_deref(), Some("SUCCEEDED"));
    assert_eq!(out.file("child.txt").as_deref(), Some("bar"));
}

#[test]
fn t14_plain_shell_variable_kept() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - FOO=bar\n      - test \"$FOO\" = bar\n      - sh -c 'echo \"[$FOO]\"' > child.txt\n",
    )]);
    let out = p.run();
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(out.file("child.txt").as_deref(), Some("[]"), "a plain variable is not exported");
}

#[test]
fn t15_version_01_does_not_keep_cwd() {
    let p = Project::new(&[
        ("sub/keep", ""),
        (
            "buildspec.yml",
            "version: 0.1\nphases:\n  build:\n    commands:\n      - cd sub\n      - pwd > $CODEBUILD_SRC_DIR/p.txt\n",
        ),
    ]);
    let out = p.run();
    assert_eq!(out.file("p.txt"), Some(out.src.to_string_lossy().into_owned()));
}

#[test]
fn t16_version_01_does_not_keep_exports() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.1\nphases:\n  build:\n    commands:\n      - export FOO=bar\n      - test -z \"$FOO\"\n",
    )]);
    let out = p.run();
    assert_eq!(out.status(), "SUCCEEDED");
}

#[test]
fn t17_t18_multi_line_command_last_status_counts() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - |\n        false\n        true\n",
    )]);
    assert_eq!(p.run().phase("BUILD").as_deref(), Some("SUCCEEDED"));
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - |\n        set -e\n        false\n        true\n",
    )]);
    assert_eq!(p.run().phase("BUILD").as_deref(), Some("FAILED"));
}

#[test]
fn t19_exit_status_in_message() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - exit 3\n",
    )]);
    let out = p.run();
    assert_eq!(out.phase("BUILD").as_deref(), Some("FAILED"));
    let (_, message) = out.context("BUILD").expect("context");
    assert!(message.ends_with("Reason: exit status 3"), "{message}");
}

#[test]
fn t20_bash_only_syntax_needs_shell_bash() {
    let dash = std::fs::read_link("/bin/sh").is_ok_and(|t| t.to_string_lossy().contains("dash"));
    if !dash {
        eprintln!("skipping: /bin/sh is not dash here");
        return;
    }
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - '[[ 1 == 1 ]]'\n",
    )]);
    assert_eq!(p.run().phase("BUILD").as_deref(), Some("FAILED"));
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nenv:\n  shell: bash\nphases:\n  build:\n    commands:\n      - '[[ 1 == 1 ]]'\n      - A=1\n      - '[[ $A == 1 ]]'\n",
    )]);
    assert_eq!(p.run().phase("BUILD").as_deref(), Some("SUCCEEDED"));
}

#[test]
fn t21_missing_buildspec() {
    let p = Project::new(&[("README", "no buildspec here")]);
    let out = p.run();
    assert_eq!(out.phase("DOWNLOAD_SOURCE").as_deref(), Some("FAILED"));
    assert_eq!(
        out.context("DOWNLOAD_SOURCE"),
        Some(("YAML_FILE_ERROR".into(), "YAML file does not exist".into()))
    );
    assert_eq!(out.phase_types(), phases(&["DOWNLOAD_SOURCE", "FINALIZING", "COMPLETED"]));
    assert!(!out.log.contains("Running command"));
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t22_bad_phase_name() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [touch b]\n  postbuild:\n    commands: [touch p]\n",
    )]);
    let out = p.run();
    let (code, message) = out.context("DOWNLOAD_SOURCE").expect("context");
    assert_eq!(code, "YAML_FILE_ERROR");
    assert!(message.contains(
        "Invalid buildspec phase name: POSTBUILD. Expecting: BUILD,INSTALL,POST_BUILD,PRE_BUILD"
    ));
    assert!(message.starts_with("buildspec.yml:5:3"), "{message}");
    assert!(out.file("b").is_none());
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t23_invalid_yaml() {
    let p = Project::new(&[("buildspec.yml", "version: 0.2\nkey: a: b\n")]);
    let out = p.run();
    assert_eq!(out.context("DOWNLOAD_SOURCE").map(|c| c.0).as_deref(), Some("YAML_FILE_ERROR"));
    assert_eq!(out.status(), "FAILED");
    assert!(!out.log.contains("Running command"));
}

#[test]
fn t24_unknown_cache_key_warns_and_proceeds() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [touch b]\ncache:\n  paths: [x]\n  foo: 1\n",
    )]);
    let out = p.run();
    assert!(out.log.contains("following keys cannot be identified: foo"), "{}", out.log);
    assert!(out.file("b").is_some());
    assert_eq!(out.status(), "SUCCEEDED");
}

#[test]
fn t25_missing_custom_buildspec() {
    let p = Project::new(&[("buildspec.yml", "version: 0.2\n")]);
    let mut options = p.options();
    options.buildspec = Some("ci/other.yml".into());
    let out = p.run_with(&options, "");
    let (code, message) = out.context("DOWNLOAD_SOURCE").expect("context");
    assert_eq!(code, "YAML_FILE_ERROR");
    assert_eq!(
        message,
        format!("stat {}: no such file or directory", out.src.join("ci/other.yml").display())
    );
    assert_eq!(out.status(), "FAILED");
}

#[test]
fn t26_timeout() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 300 & echo $! > bg.pid; sleep 300\n  post_build:\n    commands: [touch p]\n",
    )]);
    let mut options = p.options();
    options.timeout = Some(std::time::Duration::from_secs(2));
    let started = std::time::Instant::now();
    let out = p.run_with(&options, "");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.phase("BUILD").as_deref(), Some("TIMED_OUT"));
    assert_eq!(out.status(), "TIMED_OUT");
    assert!(out.file("p").is_none());
    assert!(out.phase("POST_BUILD").is_none());
    let pid = out.file("bg.pid").expect("pid");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z "), "background child {pid} still runs");
}

#[test]
fn t27_local_run_keeps_home() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"$HOME\" > home.txt\n",
    )]);
    let out = p.run();
    assert_eq!(out.file("home.txt"), std::env::var("HOME").ok());
}

#[test]
fn t28_t29_t30_precedence_and_literal_values() {
    let p = Project::new(&[
        (
            "buildspec.yml",
            "version: 0.2\nenv:\n  variables:\n    FOO: a\n    P: \"$HOME/x\"\n    N: 3\nphases:\n  build:\n    commands:\n      - printf '%s|%s|%s' \"$FOO\" \"$P\" \"$N\" > env.txt\n",
        ),
        (
            "projects.json",
            r#"{"projects":[{"name":"proj","environment":{"environmentVariables":[{"name":"FOO","value":"b","type":"PLAINTEXT"}]}}]}"#,
        ),
    ]);
    let out = p.run();
    assert_eq!(out.file("env.txt").as_deref(), Some("a|$HOME/x|3"));
    let mut options = p.options();
    options.config = Some(p.source.join("projects.json"));
    options.project = Some("proj".into());
    assert_eq!(p.run_with(&options, "").file("env.txt").as_deref(), Some("b|$HOME/x|3"));
    options.env = vec![("FOO".into(), "c".into())];
    assert_eq!(p.run_with(&options, "").file("env.txt").as_deref(), Some("c|$HOME/x|3"));
}

#[test]
fn t31_t33_build_id_arn_start_time() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - printf '%s\\n%s\\n%s\\n%s\\n%s\\n%s\\n' \"$CODEBUILD_BUILD_ID\" \"$CODEBUILD_BUILD_ARN\" \"$CODEBUILD_START_TIME\" \"$CODEBUILD_CI\" \"$AWS_REGION\" \"$CODEBUILD_SRC_DIR\" > env.txt\n",
    )]);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let out = p.run();
    let text = out.file("env.txt").expect("env.txt");
    let lines: Vec<&str> = text.lines().collect();
    let id = lines[0];
    let uuid = id.strip_prefix("proj:").expect("proj: prefix");
    assert_eq!(uuid.len(), 36);
    assert!(uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
    assert_eq!(lines[1], format!("arn:aws:codebuild:us-east-1:000000000000:build/{id}"));
    assert_eq!(lines[2].len(), 13);
    let start: i64 = lines[2].parse().expect("number");
    assert!((start - wall).abs() < 5000, "{start} vs {wall}");
    assert_eq!(lines[3], "true");
    assert_eq!(lines[4], "us-east-1");
    assert_eq!(lines[5], out.src.to_string_lossy());
    assert_eq!(out.summary["id"], id);
}

#[test]
fn t32_build_numbers_count_up() {
    let p = Project::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo $CODEBUILD_BUILD_NUMBER > n.txt\n",
    )]);
    assert_eq!(p.run().file("n.txt").as_deref(), Some("1"));
    let second = p.run();
    assert_eq!(second.file("n.txt").as_deref(), Some("2"));
    assert_eq!(second.summary["buildNumber"], 2);
}
