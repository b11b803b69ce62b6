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
