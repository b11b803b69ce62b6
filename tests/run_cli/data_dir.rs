//! The data directory over many builds: `kiln runs` lists them, `kiln run` keeps only the
//! newest 20 working copies of a project, `kiln clean` removes whole builds.

use crate::support::{Workspace, kiln};

fn command(ws: &Workspace, args: &[&str]) -> (Option<i32>, String) {
    let out = kiln().args(args).arg("--data-dir").arg(ws.data()).output().expect("kiln");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn runs_lists_builds_and_clean_removes_the_old_ones() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n",
    )]);
    assert_eq!(ws.run(&[]).code, Some(0));
    ws.write(&[("buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands: ['exit 1']\n")]);
    assert_eq!(ws.run(&[]).code, Some(1));
    let (code, text) = command(&ws, &["runs"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("proj #2\tFAILED\t") && lines[1].ends_with("builds/proj/2/build.log"),
        "{text}"
    );
    assert!(lines[2].starts_with("proj #1\tSUCCEEDED\t"), "{text}");
    let (code, text) = command(&ws, &["clean", "--keep", "1"]);
    assert_eq!(code, Some(0));
    assert!(text.starts_with("removed 1 build(s)"), "{text}");
    assert!(!ws.data().join("builds/proj/1").exists());
    assert!(ws.data().join("builds/proj/2/build.log").exists());
    assert_eq!(command(&ws, &["runs", "proj"]).1.lines().count(), 2);
}

#[test]
fn only_the_newest_twenty_working_copies_are_kept() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n",
    )]);
    for _ in 0..21 {
        assert_eq!(ws.run(&["--quiet"]).code, Some(0));
    }
    assert!(!ws.working_copy(1).exists(), "the oldest working copy is removed");
    assert!(ws.data().join("builds/proj/1/build.log").exists(), "its log stays for kiln runs");
    assert!(ws.working_copy(2).exists() && ws.working_copy(21).exists());
}
