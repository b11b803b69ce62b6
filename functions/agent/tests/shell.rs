//! The shell session with real processes: state across commands, 0.1 vs 0.2, timeouts.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiln_agent::output::LogSink;
use kiln_agent::shell::{EnvError, Exit, RunAs, ShellConfig, ShellError, ShellSession, StopFlag};
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

/// Whether run-as tests can run here (root, and a `nobody` user); says so when they cannot.
fn nobody() -> Option<RunAs> {
    match RunAs::lookup("nobody") {
        Ok(user) => Some(user),
        Err(e) => {
            eprintln!("skipping the run-as part: {e}");
            None
        }
    }
}

#[test]
fn a_command_over_128_kib_runs_and_its_text_is_not_on_the_command_line() {
    for (program, version) in
        [("sh", Version::V0_2), ("bash", Version::V0_2), ("sh", Version::V0_1)]
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = session(dir.path(), program, version);
        let long = "x".repeat(200_000);
        let command = format!(
            "# MARKER-7d1c\nX='{long}'\necho ${{#X}}\ntr '\\0' '\\n' < /proc/$$/cmdline | grep -c MARKER-7d1c || true"
        );
        let (exits, out) = run_all(&mut s, &[&command, "echo $LINENO-checked"]);
        assert_eq!(exits[0], Exit::Code(0), "{program} {version:?}: {out}");
        assert!(out.starts_with("200000\n0\n"), "{program} {version:?}: {out}");
    }
}

#[test]
fn state_survives_values_of_every_shape() {
    for program in ["sh", "bash"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = session(dir.path(), program, Version::V0_2);
        let weird = "it's \"q\" $(x) `y` \\z\n\ttab ünï \u{1}\u{1b}";
        let set = format!(
            "export W={}; P=$W; mkdir -p \"$W\"; cd \"$W\"",
            kiln_agent::shell::quote(weird)
        );
        let (exits, out) = run_all(
            &mut s,
            &[
                &set,
                "printf '[%s]' \"$W\" \"$P\"; basename \"$PWD\"",
                "sh -c 'printf \"<%s>\" \"$W\"'",
            ],
        );
        assert_eq!(exits, [Exit::Code(0); 3], "{program}: {out}");
        assert_eq!(out, format!("[{weird}][{weird}]{weird}\n<{weird}>"), "{program}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bash_as_sh = dir.path().join("sh");
    let bash = std::process::Command::new("sh").args(["-c", "command -v bash"]).output();
    let bash = String::from_utf8_lossy(&bash.expect("command -v").stdout).trim().to_owned();
    std::os::unix::fs::symlink(&bash, &bash_as_sh).expect("symlink");
    for program in ["bash", bash_as_sh.to_str().expect("utf-8")] {
        let mut s = session(dir.path(), program, Version::V0_2);
        let (_, out) =
            run_all(&mut s, &["a=(one 'two words' $'x\\ny')", "printf '<%s>' \"${a[@]}\""]);
        assert_eq!(out, "<one><two words><x\ny>", "{program}");
    }
}

/// A command that forges a state frame on every pipe it can reach (with the markers read from
/// its shell's command line) and exits: the next command gets its values as data, and none of
/// them runs. As `nobody` too when root, since that is the run-as escalation path.
#[test]
fn a_forged_state_frame_carries_data_never_code() {
    let users: Vec<Option<RunAs>> = std::iter::once(None).chain(nobody().map(Some)).collect();
    for program in ["sh", "bash"] {
        for user in &users {
            let dir = tempfile::tempdir().expect("tempdir");
            let pwned = dir.path().join("pwned");
            let mut s = session(dir.path(), program, Version::V0_2);
            let payload = format!("touch {}", pwned.display());
            let frame = format!(
                "X=$({payload})\nY='$({payload})'\nZ=`{payload}`\nW=\"$({payload})\"\na=([$({payload})]=1)\nV='v'\n{payload}\n__EXPORTS__\nexport Y; {payload}\nexport V\n__END__\n"
            );
            let forge = format!(
                "m=$(tr '\\0' '\\n' < /proc/$$/cmdline | grep -o '__kiln_[a-z]*_[0-9a-f]*' | sort -u | tr '\\n' ' ')\n\
                 set -- $m\n\
                 frame=$(printf '%s' {frame} | sed \"s/__END__/$1/; s/__EXPORTS__/$2/\")\n\
                 for n in 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 255; do printf '%s\\n' \"$frame\" 2>/dev/null > /proc/$$/fd/$n; done\n\
                 exit 0",
                frame = kiln_agent::shell::quote(&frame),
            );
            let out = Shared::default();
            let sink = LogSink::new(&[], vec![Box::new(out.clone())]);
            let first = s.run(&forge, &[], user.as_ref(), None, &sink).expect("forge");
            let second = s
                .run("printf '[%s][%s][%s]' \"$Y\" \"$V\" \"${X-unset}\"", &[], None, None, &sink)
                .expect("read back");
            sink.flush();
            let text = out.text();
            assert_eq!((first, second), (Exit::Code(0), Exit::Code(0)), "{program}: {text}");
            assert!(!pwned.exists(), "{program} {user:?}: the forged state ran code\n{text}");
            let forged = text.ends_with(&format!("[$({payload})][v][unset]"));
            let refused = text.ends_with("[][][unset]") && user.is_some();
            assert!(forged || refused, "{program} {user:?}: {text}");
        }
    }
}

#[test]
fn run_as_gets_its_identity_and_kiln_s_comes_back() {
    let Some(user) = nobody() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src");
    let config = ShellConfig {
        program: "sh".into(),
        version: Version::V0_2,
        src_dir: src,
        env: vec![
            ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".to_owned(), "/home/kiln".to_owned()),
            ("USER".to_owned(), "kiln".to_owned()),
        ],
    };
    let mut s = ShellSession::new(config, StopFlag::default()).expect("session");
    let out = Shared::default();
    let sink = LogSink::new(&[], vec![Box::new(out.clone())]);
    let show = "echo \"$(id -un) $HOME $USER ${LOGNAME-none}\"; echo to-stderr > /dev/stderr";
    for run_as in [None, Some(&user), Some(&user), None] {
        assert_eq!(s.run(show, &[], run_as, None, &sink).expect("run"), Exit::Code(0));
    }
    sink.flush();
    let home = &user.home;
    assert_eq!(
        out.text(),
        format!(
            "root /home/kiln kiln none\nto-stderr\nnobody {home} nobody nobody\nto-stderr\nnobody {home} nobody nobody\nto-stderr\nroot /home/kiln kiln none\nto-stderr\n"
        )
    );
}

#[test]
fn a_nul_in_the_initial_environment_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ShellConfig {
        program: "sh".into(),
        version: Version::V0_2,
        src_dir: dir.path().to_owned(),
        env: vec![("GOOD".to_owned(), "1".to_owned()), ("BAD".to_owned(), "a\0b".to_owned())],
    };
    let err = ShellSession::new(config, StopFlag::default()).expect_err("refused");
    assert!(
        matches!(&err, ShellError::Env(EnvError::NulInValue { name }) if name == "BAD"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "environment variable BAD: its value holds a NUL byte");
}

/// kiln ignores SIGPIPE for itself (Rust does); its commands must get the default back, or a
/// writer to a closed pipe (`yes | head -1`) would never end.
#[test]
fn commands_die_of_sigpipe_as_in_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = session(dir.path(), "sh", Version::V0_2);
    let (exits, out) = run_all(
        &mut s,
        &[
            "yes | head -1",
            "m=$(awk '/^SigIgn/ { print $2 }' /proc/$$/status); [ $((0x$m >> 12 & 1)) = 0 ] && echo sigpipe default",
        ],
    );
    assert_eq!(exits, [Exit::Code(0), Exit::Code(0)], "{out}");
    assert_eq!(out, "y\nsigpipe default\n");
}
