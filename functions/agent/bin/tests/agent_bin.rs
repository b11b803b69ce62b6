//! The `kiln-agent` binary: a build description in, the log out, the summary handed to the
//! build store; and its `codebuild-hash-files` personality.

use std::process::Command;

fn description(src: &std::path::Path) -> serde_json::Value {
    serde_json::json!({
        "kilnDescriptionFormat": 1,
        "build": {
            "project": "proj",
            "uuid": "0f8e2a7c-1111-4222-8333-444455556666",
            "number": 7,
            "region": "us-east-1",
            "account": "000000000000"
        },
        "project": {"name": "proj", "artifacts": {"type": "NO_ARTIFACTS"}},
        "source": {"type": "DIRECTORY", "path": src},
        "initiator": "tester",
        "startTimeMs": 1_700_000_000_000_i64,
        "image": "aws/codebuild/standard:7.0",
        "timeoutSeconds": 600_000_000_u64,
        "withSecrets": true,
        "home": "ROOT",
    })
}

#[test]
fn runs_a_description_and_hands_back_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src");
    std::fs::write(
        src.join("buildspec.yml"),
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"home=$HOME number=$CODEBUILD_BUILD_NUMBER id=$CODEBUILD_BUILD_ID\"\n      - codebuild-hash-files buildspec.yml > hash.txt\n",
    )
    .expect("buildspec");
    let data = dir.path().join("data");
    let mut d = description(&src);
    d["workspace"] = serde_json::json!(data.join("builds/proj/7"));
    let file = dir.path().join("description.json");
    std::fs::write(&file, d.to_string()).expect("description");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-agent"))
        .arg("--description")
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("agent");
    let log = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{log}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        log.contains("home=/root number=7 id=proj:0f8e2a7c-1111-4222-8333-444455556666"),
        "{log}"
    );
    let hash = std::fs::read_to_string(data.join("builds/proj/7/src/hash.txt")).expect("hash");
    assert_eq!(hash.trim().len(), 64, "{hash}");
    let text = std::fs::read(data.join("builds/proj/7/summary.json")).expect("summary");
    let summary = kiln_core::build::BuildSummary::from_json(&text).expect("a summary");
    assert_eq!(summary.build_status, kiln_core::build::Status::Succeeded);
    assert_eq!(summary.build_number, 7);
}

#[test]
fn an_unreadable_description_exits_2_and_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-agent"))
        .args(["--description", "/nonexistent/build.json", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("agent");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("read the build description /nonexistent/build.json"), "{stderr}");
    let other = dir.path().join("d.json");
    std::fs::write(&other, r#"{"kilnDescriptionFormat": 99}"#).expect("file");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-agent"))
        .arg("--description")
        .arg(&other)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("agent");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("format 99 is not supported"));
}

#[test]
fn help_prints_the_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-agent")).arg("--help").output().expect("agent");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--description") && text.contains("Exit status"), "{text}");
}

/// The container is stopped with SIGTERM (ECS) or loses its terminal (SIGHUP): the build ends
/// STOPPED with its summary written, and a process that left the build's session is killed.
#[test]
fn sigterm_and_sighup_stop_the_build_and_kill_its_processes() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::time::{Duration, Instant};
    for signal in [Signal::SIGTERM, Signal::SIGHUP] {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).expect("src");
        std::fs::write(
            src.join("buildspec.yml"),
            "version: 0.2\nphases:\n  build:\n    commands:\n      - setsid sleep 300 > /dev/null 2>&1 & echo $! > escaped.pid\n      - touch ready; sleep 60\n",
        )
        .expect("buildspec");
        let data = dir.path().join("data");
        let mut d = description(&src);
        d["source"]["inPlace"] = serde_json::json!(true);
        d["workspace"] = serde_json::json!(data.join("builds/proj/7"));
        let file = dir.path().join("description.json");
        std::fs::write(&file, d.to_string()).expect("description");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiln-agent"))
            .arg("--description")
            .arg(&file)
            .arg("--data-dir")
            .arg(&data)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("agent");
        let until = Instant::now() + Duration::from_secs(30);
        while !src.join("ready").exists() {
            assert!(Instant::now() < until, "{signal}: the build never got ready");
            std::thread::sleep(Duration::from_millis(20));
        }
        let escaped: i32 = std::fs::read_to_string(src.join("escaped.pid"))
            .expect("pid")
            .trim()
            .parse()
            .expect("a pid");
        kill(Pid::from_raw(i32::try_from(child.id()).expect("pid")), signal).expect("signal");
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(1), "{signal}");
        let text = std::fs::read(data.join("builds/proj/7/summary.json")).expect("summary");
        let summary = kiln_core::build::BuildSummary::from_json(&text).expect("a summary");
        assert_eq!(summary.build_status, kiln_core::build::Status::Stopped, "{signal}");
        let stat = std::fs::read_to_string(format!("/proc/{escaped}/stat")).unwrap_or_default();
        if stat.contains("sleep") && !stat.contains(") Z ") {
            let _ = kill(Pid::from_raw(escaped), Signal::SIGKILL);
            panic!("{signal}: the setsid child {escaped} outlived the build");
        }
    }
}
