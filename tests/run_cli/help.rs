//! `kiln --help` and `kiln run --help` tell the truth: every flag, its default, exit codes.

use crate::support::kiln;

fn help(args: &[&str]) -> String {
    let out = kiln().args(args).output().expect("kiln");
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn run_help_documents_every_flag_default_and_exit_code() {
    let text = help(&["run", "--help"]);
    for flag in [
        "--source <DIR>",
        "--buildspec <PATH>",
        "--project <NAME>",
        "--config <FILE>",
        "--env <NAME=VALUE>",
        "--secrets <FILE>",
        "--event <FILE>",
        "--event-name <NAME>",
        "--timeout <DURATION>",
        "--data-dir <DIR>",
        "--summary <FILE>",
        "--in-place",
    ] {
        assert!(text.contains(flag), "{flag} missing from\n{text}");
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for claim in [
        "[default: .]",
        "[default: .kiln]",
        "(default: the source directory's name)",
        "else 60m",
        "else buildspec.yml",
        "DATA_DIR/s3/<bucket>/<key>",
        "Exit status: 0 when the build SUCCEEDED, 1 when it did not",
        "2 on a usage or configuration error",
    ] {
        assert!(flat.contains(claim), "{claim:?} missing from\n{text}");
    }
}

#[test]
fn top_level_help_lists_the_commands() {
    let text = help(&["--help"]);
    for command in ["validate", "schema", "run", "resolve"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(command)), "{command}\n{text}");
    }
}
