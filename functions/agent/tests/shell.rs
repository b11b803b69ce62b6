//! The shell session with real processes: state across commands, 0.1 vs 0.2, timeouts.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiln_agent::output::LogSink;
use kiln_agent::shell::{Exit, ShellConfig, ShellSession, StopFlag};
use kiln_core::buildspec::Version;

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

fn session(dir: &std::path::Path, program: &str, version: Version) -> ShellSession {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("sub")).expect("src dir");
    let env = vec![
        ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
        ("INITIAL".to_owned(), "yes".to_owned()),
    ];
    let config = ShellConfig { program: program.into(), version, src_dir: src, env };
    ShellSession::new(config, StopFlag::default()).expect("session")
}

fn run_all(s: &mut ShellSession, commands: &[&str]) -> (Vec<Exit>, String) {
    let out = Shared::default();
    let sink = LogSink::new(&[], vec![Box::new(out.clone())]);
    let exits = commands.iter().map(|c| s.run(c, &[], None, None, &sink).expect("run")).collect();
    sink.flush();
    (exits, out.text())
}

#[test]
fn v02_keeps_cwd_exports_plain_variables() {
    for program in ["sh", "bash"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = session(dir.path(), program, Version::V0_2);
        let (exits, out) = run_all(
            &mut s,
            &[
                "cd sub",
                "export FOO=bar; PLAIN='it'\\''s\nmulti'",
                "unset INITIAL",
                "echo \"$(basename \"$PWD\") $FOO [$PLAIN] ${INITIAL-unset}\"",
                "sh -c 'echo child sees $FOO'",
                "false\ntrue",
                "exit 3",
                "echo after exit $FOO",
            ],
        );
        assert_eq!(exits[..6], [Exit::Code(0); 6], "{program}: {out}");
        assert_eq!(exits[6], Exit::Code(3));
        assert_eq!(
            out, "sub bar [it's\nmulti] unset\nchild sees bar\nafter exit bar\n",
            "{program}"
        );
        let values = s.query(&["FOO".into(), "NOPE".into(), "PLAIN".into()]);
        assert_eq!(values, [Some("bar".into()), None, Some("it's\nmulti".into())]);
    }
}

#[test]
fn v01_starts_fresh_every_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = session(dir.path(), "sh", Version::V0_1);
    let (_, out) =
        run_all(&mut s, &["cd sub; export FOO=bar", "echo \"$(basename \"$PWD\") [${FOO-}]\""]);
    assert_eq!(out, "src []\n");
}

#[test]
fn timeout_kills_the_group_with_background_children() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = session(dir.path(), "sh", Version::V0_2);
    let out = Shared::default();
    let sink = LogSink::new(&[], vec![Box::new(out.clone())]);
    let pidfile = dir.path().join("bg.pid");
    let command = format!("sleep 300 & echo $! > {}; sleep 300", pidfile.display());
    let started = Instant::now();
    let exit = s
        .run(&command, &[], None, Some(Instant::now() + Duration::from_secs(1)), &sink)
        .expect("run");
    assert_eq!(exit, Exit::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(5));
    let pid = std::fs::read_to_string(&pidfile).expect("pid file").trim().to_owned();
    std::thread::sleep(Duration::from_millis(100));
    let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ");
    assert!(!alive, "background child {pid} survived the timeout");
}

#[test]
fn stop_kills_the_running_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src");
    let stop = StopFlag::default();
    let config = ShellConfig {
        program: "sh".into(),
        version: Version::V0_2,
        src_dir: src,
        env: vec![("PATH".to_owned(), std::env::var("PATH").unwrap_or_default())],
    };
    let mut s = ShellSession::new(config, stop.clone()).expect("session");
    let sink = LogSink::new(&[], vec![Box::new(Shared::default())]);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stop.stop();
    });
    let started = Instant::now();
    let exit = s.run("sleep 60", &[], None, None, &sink).expect("run");
    assert_eq!(exit, Exit::Stopped);
    assert!(started.elapsed() < Duration::from_secs(5));
    stopper.join().expect("stopper");
}
