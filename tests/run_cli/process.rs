//! Process lifetimes through the real `kiln` binary: nothing a build starts outlives it (even
//! after `setsid`, `setpgid` or `disown`), SIGTERM and SIGHUP stop a build like Ctrl-C, the
//! deadline covers name expansions, a closed stdout does not end the build.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{Workspace, kiln};

/// Commands that start processes escaping the command's process group in every way a shell
/// allows, each writing its pid to `$PIDS`; the last one marks `$READY` and waits.
const ESCAPES: &str = r#"version: 0.2
phases:
  build:
    commands:
      - setsid sleep 300 > /dev/null 2>&1 & echo $! >> "$PIDS"
      - setsid sh -c 'sleep 300 & echo $! >> "$PIDS"' > /dev/null 2>&1 &
      - bash -c 'set -m; sleep 300 > /dev/null 2>&1 & echo $! >> "$PIDS"; disown'
      - sh -c 'set -m; (sleep 300 & echo $! >> "$PIDS") > /dev/null 2>&1 &'
      - python3 -c 'import os, time; os.setpgid(0, 0); print(os.getpid(), file=open(os.environ["PIDS"], "a")); time.sleep(300)' > /dev/null 2>&1 &
"#;

/// A `kiln run` started in the background, its stdout and stderr going to files.
struct Running {
    child: Child,
    ws: Workspace,
    pids: PathBuf,
}

impl Running {
    /// Starts `kiln run` on `buildspec` with `PIDS` and `READY` set, `args` after.
    fn start(buildspec: &str, args: &[&str]) -> Self {
        Self::start_in(Workspace::new(&[("buildspec.yml", buildspec)]), args)
    }

    /// Starts `kiln run` on the source of `ws` with `PIDS` and `READY` set, `args` after.
    fn start_in(ws: Workspace, args: &[&str]) -> Self {
        let pids = ws.path("pids");
        let mut cmd = kiln();
        cmd.arg("run")
            .arg("--source")
            .arg(ws.source())
            .arg("--data-dir")
            .arg(ws.data())
            .arg("--summary")
            .arg(ws.path("summary.json"))
            .arg("--env")
            .arg(format!("PIDS={}", pids.display()))
            .arg("--env")
            .arg(format!("READY={}", ws.path("ready").display()))
            .arg("--env")
            .arg(format!("GO={}", ws.path("go").display()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(ws.path("stdout")).expect("stdout file"))
            .stderr(std::fs::File::create(ws.path("stderr")).expect("stderr file"));
        let child = cmd.spawn().expect("start kiln");
        Self { child, ws, pids }
    }

    /// Waits until `$READY` exists (the build reached its last command).
    fn wait_ready(&mut self) {
        let ready = self.ws.path("ready");
        let until = Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            assert!(Instant::now() < until, "the build never got ready: {}", self.output());
            assert!(
                self.child.try_wait().expect("try_wait").is_none(),
                "kiln ended early: {}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for kiln to exit (killing it after `limit`) and returns its exit code.
    fn wait(&mut self, limit: Duration) -> Option<i32> {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            if Instant::now() >= until {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("kiln did not end within {limit:?}: {}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        kill(Pid::from_raw(pid), signal).expect("signal kiln");
    }

    fn output(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.ws.path(name)).unwrap_or_default();
        format!("--- stdout\n{}--- stderr\n{}", read("stdout"), read("stderr"))
    }

    fn summary(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.ws.path("summary.json")).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.ws.data().join("builds/proj/1/build.log")).unwrap_or_default()
    }
}

/// The processes named in `pids` (one pid a line) with their start times, read while they run.
fn identify(pids: &Path, expected: usize) -> Vec<(i32, String)> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(pids).unwrap_or_default();
        let found: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        if found.len() >= expected {
            let known: Vec<_> =
                found.iter().filter_map(|pid| Some((*pid, start_time(*pid)?))).collect();
            assert_eq!(known.len(), found.len(), "not every process of {found:?} runs");
            return known;
        }
        assert!(Instant::now() < until, "only {} of {expected} pids in {text:?}", found.len());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Field 22 of `/proc/PID/stat` (the start time), or `None` when no such process runs.
fn start_time(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    (fields.first() != Some(&"Z")).then(|| fields.get(19).map(|s| (*s).to_owned()))?
}

/// Fails naming every process of `known` that still runs.
fn assert_all_gone(known: &[(i32, String)], context: &str) {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let alive: Vec<i32> = known
            .iter()
            .filter(|(pid, start)| start_time(*pid).as_ref() == Some(start))
            .map(|(pid, _)| *pid)
            .collect();
        if alive.is_empty() {
            return;
        }
        if Instant::now() >= until {
            for pid in &alive {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
            panic!("processes {alive:?} of the build outlived it\n{context}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn python3() -> bool {
    let found = Command::new("python3").arg("-c").arg("pass").status().is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipping: python3 is not installed");
    }
    found
}

fn bash() -> bool {
    let found = Command::new("bash").arg("-c").arg("true").status().is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipping: bash is not installed");
    }
    found
}

/// The build ends on its own; everything it started is killed in FINALIZING, however it left
/// the command's process group.
#[test]
fn nothing_the_build_started_outlives_it() {
    if !python3() || !bash() {
        return;
    }
    let buildspec =
        format!("{ESCAPES}      - touch \"$READY\"; while [ ! -e \"$GO\" ]; do sleep 0.02; done\n");
    let mut run = Running::start(&buildspec, &[]);
    run.wait_ready();
    let known = identify(&run.pids, 5);
    std::fs::write(run.ws.path("go"), "").expect("go");
    let code = run.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{}", run.output());
    assert_eq!(run.summary()["buildStatus"], "SUCCEEDED");
    assert_all_gone(&known, &run.output());
}

/// SIGTERM and SIGHUP stop the build as Ctrl-C does: STOPPED, the summary written, the log
/// complete, every process killed.
#[test]
fn sigterm_and_sighup_stop_the_build_like_ctrl_c() {
    if !python3() || !bash() {
        return;
    }
    for signal in [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGINT] {
        let buildspec = format!(
            "{ESCAPES}      - touch \"$READY\"; sleep 60\n  post_build:\n    commands:\n      - echo post-build ran\n"
        );
        let mut run = Running::start(&buildspec, &[]);
        run.wait_ready();
        let known = identify(&run.pids, 5);
        run.signal(signal);
        let code = run.wait(Duration::from_secs(30));
        let context = format!("{signal}: {}", run.output());
        assert_eq!(code, Some(1), "{context}");
        let summary = run.summary();
        assert_eq!(summary["buildStatus"], "STOPPED", "{context}");
        let build = summary["phases"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["phaseType"] == "BUILD"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(build["phaseStatus"], "STOPPED", "{context}");
        let log = run.log();
        assert!(log.contains("Phase complete: FINALIZING"), "{context}\n--- log\n{log}");
        assert!(
            log.lines().any(|l| l.contains(" Build proj:") && l.ends_with(" STOPPED")),
            "{context}\n--- log\n{log}"
        );
        assert!(!log.contains("post-build ran"), "{context}");
        assert_all_gone(&known, &context);
    }
}

/// `--timeout` ends a build whose artifact name never finishes expanding: a background child
/// keeps the command substitution's pipe open.
#[test]
fn the_deadline_covers_an_endless_artifacts_name() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo x > out.txt\nartifacts:\n  files: [out.txt]\n  name: \"art-$(sleep 1000 & echo $! >> $PIDS)\"\n";
    let catalog = "- name: proj\n  artifacts: {type: S3, location: bkt, packaging: NONE, name: art, overrideArtifactName: true}\n";
    let ws = Workspace::new(&[("buildspec.yml", buildspec)]);
    let config = ws.path("projects.yaml");
    std::fs::write(&config, catalog).expect("catalog");
    let config = config.to_str().expect("utf-8").to_owned();
    let started = Instant::now();
    let mut run = Running::start_in(ws, &["--timeout", "5s", "--config", &config]);
    let known = identify(&run.pids, 1);
    let code = run.wait(Duration::from_secs(40));
    assert!(started.elapsed() < Duration::from_secs(30), "{}", run.output());
    assert_eq!(code, Some(1), "{}", run.output());
    assert_eq!(run.summary()["buildStatus"], "TIMED_OUT", "{}", run.output());
    assert_all_gone(&known, &run.output());
}

/// `kiln run | head -1`: kiln's stdout closes early; the build goes on, the log file gets
/// everything, kiln does not panic.
#[test]
fn a_closed_stdout_does_not_end_the_build() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - for i in $(seq 1 2000); do echo line $i; done\n      - echo second command\n  post_build:\n    commands:\n      - echo post build\n",
    )]);
    let mut child = kiln()
        .arg("run")
        .arg("--source")
        .arg(ws.source())
        .arg("--data-dir")
        .arg(ws.data())
        .arg("--summary")
        .arg(ws.path("summary.json"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kiln");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("kiln");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let log =
        std::fs::read_to_string(ws.data().join("builds/proj/1/build.log")).expect("build log");
    for line in ["line 2000\n", "second command\n", "post build\n", " SUCCEEDED\n"] {
        assert!(log.contains(line), "{line:?} missing from the log:\n{log}");
    }
}

/// `--timeout` kills everything the build started, not only the running command's group.
#[test]
fn a_timeout_kills_every_process_of_the_build() {
    if !python3() || !bash() {
        return;
    }
    let buildspec = format!("{ESCAPES}      - touch \"$READY\"; sleep 60\n");
    let mut run = Running::start(&buildspec, &["--timeout", "4s"]);
    run.wait_ready();
    let known = identify(&run.pids, 5);
    let code = run.wait(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{}", run.output());
    assert_eq!(run.summary()["buildStatus"], "TIMED_OUT", "{}", run.output());
    assert_all_gone(&known, &run.output());
}
