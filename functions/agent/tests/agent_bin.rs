//! The `kiln-agent` binary: a JSON build description in, the log out, a summary written; and
//! its `codebuild-hash-files` personality.

use std::process::Command;

#[test]
fn runs_a_description_and_writes_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src");
    std::fs::write(
        src.join("buildspec.yml"),
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"home=$HOME number=$CODEBUILD_BUILD_NUMBER id=$CODEBUILD_BUILD_ID\"\n      - codebuild-hash-files buildspec.yml > hash.txt\n",
    )
    .expect("buildspec");
    let summary = dir.path().join("summary.json");
    let description = serde_json::json!({
        "project": {"name": "proj", "artifacts": {"type": "NO_ARTIFACTS"}},
        "uuid": "0f8e2a7c-1111-4222-8333-444455556666",
        "buildNumber": 7,
        "srcDir": src,
        "startTimeMs": 1_700_000_000_000_i64,
        "stateDir": dir.path().join("state"),
        "summaryPath": summary,
    });
    let file = dir.path().join("build.json");
    std::fs::write(&file, description.to_string()).expect("description");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-agent")).arg(&file).output().expect("agent");
    let log = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains("home=/root number=7 id=proj:0f8e2a7c-1111-4222-8333-444455556666"),
        "{log}"
    );
    let hash = std::fs::read_to_string(src.join("hash.txt")).expect("hash");
    assert_eq!(hash.trim().len(), 64, "{hash}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    assert_eq!(json["buildStatus"], "SUCCEEDED");
    assert_eq!(json["buildNumber"], 7);
}

#[test]
fn bad_description_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-agent"))
        .arg("/nonexistent/build.json")
        .output()
        .expect("agent");
    assert_eq!(out.status.code(), Some(2));
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
        let summary = dir.path().join("summary.json");
        let description = serde_json::json!({
            "project": {"name": "proj", "artifacts": {"type": "NO_ARTIFACTS"}},
            "uuid": "0f8e2a7c-1111-4222-8333-444455556666",
            "buildNumber": 1,
            "srcDir": src,
            "startTimeMs": 1_700_000_000_000_i64,
            "stateDir": dir.path().join("state"),
            "summaryPath": summary,
        });
        let file = dir.path().join("build.json");
        std::fs::write(&file, description.to_string()).expect("description");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiln-agent"))
            .arg(&file)
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
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary"))
                .expect("json");
        assert_eq!(json["buildStatus"], "STOPPED", "{signal}");
        let stat = std::fs::read_to_string(format!("/proc/{escaped}/stat")).unwrap_or_default();
        if stat.contains("sleep") && !stat.contains(") Z ") {
            let _ = kill(Pid::from_raw(escaped), Signal::SIGKILL);
            panic!("{signal}: the setsid child {escaped} outlived the build");
        }
    }
}
