//! UPLOAD_ARTIFACTS through `kiln run`: when it runs (spec §2.4) and where objects land.

use crate::support::Workspace;

/// T51: a failed BUILD still runs POST_BUILD and UPLOAD_ARTIFACTS; the artifact is stored
/// under `DATA_DIR/s3/kiln-artifacts/<uuid>/proj/` and the build is FAILED (exit 1).
#[test]
fn t51_failed_build_still_uploads() {
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo made > out.txt\n      - exit 1\n  post_build:\n    commands:\n      - echo \"post $CODEBUILD_BUILD_SUCCEEDING\"\nartifacts:\n  files:\n    - out.txt\n",
    )]);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert_eq!(run.status(), "FAILED");
    assert_eq!(run.phase("BUILD"), Some("FAILED"));
    assert_eq!(run.phase("POST_BUILD"), Some("SUCCEEDED"));
    assert_eq!(run.phase("UPLOAD_ARTIFACTS"), Some("SUCCEEDED"));
    assert!(run.stdout.contains("\npost 0\n"), "{}", run.output());
    let key = format!("{}/proj/out.txt", run.uuid());
    assert_eq!(ws.objects("kiln-artifacts"), std::slice::from_ref(&key));
    assert_eq!(ws.object("kiln-artifacts", &key), b"made\n");
    assert_eq!(
        run.summary["artifacts"]["location"],
        format!("s3://kiln-artifacts/{}/proj", run.uuid())
    );
}

/// T03 and T11: after a PRE_BUILD failure, or a BUILD failure with `on-failure: ABORT`,
/// nothing later runs and nothing is uploaded.
#[test]
fn t03_t11_no_upload_after_pre_build_failure_or_abort() {
    for (phase, extra) in [("pre_build", ""), ("build", "    on-failure: ABORT\n")] {
        let buildspec = format!(
            "version: 0.2\nphases:\n  {phase}:\n{extra}    commands:\n      - echo x > out.txt\n      - exit 1\n  post_build:\n    commands:\n      - touch p\nartifacts:\n  files:\n    - '**/*'\n"
        );
        let ws = Workspace::new(&[("buildspec.yml", &buildspec)]);
        let run = ws.run(&[]);
        assert_eq!(run.code, Some(1), "{}", run.output());
        assert_eq!(run.status(), "FAILED");
        assert_eq!(run.phase(&phase.to_uppercase()), Some("FAILED"));
        assert_eq!(run.phase("POST_BUILD"), None, "{phase}");
        assert_eq!(run.phase("UPLOAD_ARTIFACTS"), None, "{phase}");
        assert_eq!(run.phase("FINALIZING"), Some("SUCCEEDED"));
        assert!(ws.working_copy(1).join("out.txt").is_file());
        assert!(!ws.working_copy(1).join("p").exists());
        assert_eq!(ws.objects("kiln-artifacts"), Vec::<String>::new(), "{phase}");
    }
}

/// The review's attack through `kiln run`: the build links `root -> /` and asks for its own
/// state directory beside the working copy (`../state/restore.sh`). The ZIP holds only the
/// build's own files — no entry through the link, none named with `..` — and the log says
/// what was skipped.
#[test]
fn artifacts_never_leave_the_working_copy() {
    let catalog = "projects:\n  - name: proj\n    artifacts: {type: S3, location: bkt, packaging: ZIP, name: out.zip}\n";
    let ws = Workspace::new(&[(
        "buildspec.yml",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo made > out.txt\n      - ln -s / root\nartifacts:\n  files:\n    - '**/*'\n    - ../state/restore.sh\n    - root/etc/passwd\n",
    )]);
    std::fs::write(ws.path("projects.yaml"), catalog).expect("catalog");
    let config = ws.path("projects.yaml");
    let run = ws.run(&["--config", config.to_str().expect("utf-8")]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(run.phase("UPLOAD_ARTIFACTS"), Some("SUCCEEDED"));
    let bytes = ws.object("bkt", "out.zip");
    let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut names: Vec<String> =
        zip.file_names().map(|n| n.expect("a utf-8 name").into_owned()).collect();
    names.sort_unstable();
    assert_eq!(names, ["buildspec.yml", "out.txt"], "{}", run.output());
    for skipped in ["skipping root: it is a link", "skipping ../state/restore.sh: it leads outside"]
    {
        assert!(run.stdout.contains(skipped), "{skipped}\n{}", run.output());
    }
}
