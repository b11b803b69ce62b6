//! `run-as` through the `kiln` binary: a phase run as `nobody` cannot make a later root phase
//! run code, nothing kiln leaves behind is world-writable, and no secret value stays on disk.
//! These tests run when they run as root and `nobody` exists; they say so when skipped.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::Workspace;

const SECRET: &str = "supersecret-4b1d-value";

fn root_and_nobody() -> bool {
    let root = nix::unistd::geteuid().is_root();
    let nobody = nix::unistd::User::from_name("nobody").is_ok_and(|u| u.is_some());
    if !(root && nobody) {
        eprintln!("skipping: run-as tests need root and a nobody user");
    }
    root && nobody
}

/// Every path under `dir`, symlinks not followed.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        out.push(path.clone());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&path));
        }
    }
    out
}

/// The nobody phase plants code everywhere kiln kept shell state (the old `state/saved` and
/// `state/restore.sh` files) and on the state pipe, then exits so nothing of its own is saved;
/// the root phases after it must not run that code. The build's secret never reaches the disk
/// in clear, and nothing under the data directory is world-writable.
#[test]
fn a_run_as_phase_cannot_make_a_root_phase_run_code_or_leave_secrets_behind() {
    if !root_and_nobody() {
        return;
    }
    let guard = tempfile::tempdir().expect("private dir");
    let pwned = guard.path().join("pwned");
    let buildspec = r#"version: 0.2
env:
  parameter-store:
    TOKEN: /kiln/token
phases:
  install:
    commands:
      - export FROM_INSTALL="$TOKEN"
      - echo install ran as $(id -un)
  build:
    run-as: nobody
    commands:
      - export FROM_NOBODY='$(touch '"$PWNED"')'; echo build ran as $(id -un)
      - |
        d="$CODEBUILD_SRC_DIR/../state"
        payload="X=\$(touch $PWNED)"
        frame="$(printf '%s\n\n__KILN_STATE_EXPORTS_7f3a__\n\n__KILN_STATE_CWD_7f3a__\n/' "$payload")"
        for f in "$d/saved" "$d/restore.sh"; do printf '%s\n' "$frame" > "$f" 2>/dev/null; done
        printf '%s\n' "touch $PWNED" >> "$d/restore.sh" 2>/dev/null
        for n in 3 4 5 6 7 8 9 10 11 12 13 14 15; do printf '%s\n' "$frame" 2>/dev/null > /proc/$$/fd/$n; done
        exit 0
  post_build:
    commands:
      - echo "post_build ran as $(id -un) [$FROM_NOBODY]"
      - test ! -e "$PWNED" && echo clean
"#;
    let ws = Workspace::new(&[("buildspec.yml", buildspec)]);
    let top = ws.source().parent().expect("workspace").to_owned();
    std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let secrets = ws.path("secrets.txt");
    std::fs::write(&secrets, format!("/kiln/token={SECRET}\n")).expect("secrets");
    let run = ws.run(&[
        "--secrets",
        secrets.to_str().expect("utf-8"),
        "--env",
        &format!("PWNED={}", pwned.display()),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(!pwned.exists(), "a root phase ran code planted by nobody\n{}", run.output());
    assert!(run.stdout.contains("install ran as root\n"), "{}", run.output());
    assert!(run.stdout.contains("build ran as nobody\n"), "{}", run.output());
    assert!(
        run.stdout.contains(&format!("post_build ran as root [$(touch {})]\n", pwned.display())),
        "{}",
        run.output()
    );
    assert!(run.stdout.contains("\nclean\n"), "{}", run.output());
    for path in walk(&ws.data()) {
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode();
        assert_eq!(mode & 0o002, 0, "{} is world-writable ({mode:o})", path.display());
        if meta.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            let clear = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
            assert!(!clear, "{} holds the secret in clear", path.display());
        }
    }
}
