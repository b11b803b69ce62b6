//! The `--summary` file: every field DESIGN.md §4 lists, checked against what the build did.

use sha2::{Digest, Sha256};

use crate::support::Workspace;

const CATALOG: &str = "- name: proj\n  artifacts: {type: S3, location: bkt, path: MyPath, namespaceType: BUILD_ID, name: MyArtifact.zip, packaging: ZIP}\n  secondaryArtifacts:\n    - {type: S3, location: bkt2, namespaceType: NONE, name: docs, packaging: NONE, artifactIdentifier: docs}\n    - {type: S3, location: bkt2, namespaceType: NONE, name: bin.zip, packaging: ZIP, artifactIdentifier: bin, overrideArtifactName: true}\n";

const BUILDSPEC: &str = "version: 0.2\nenv:\n  exported-variables: [VERSION]\nphases:\n  build:\n    commands:\n      - mkdir -p dist docs && echo a > dist/a.txt && echo d > docs/index.html\n      - export VERSION=1.2.3\n  post_build:\n    commands:\n      - exit 4\nartifacts:\n  files: ['dist/**/*']\n  secondary-artifacts:\n    docs:\n      files: ['**/*']\n      base-directory: docs\n    bin:\n      files: [dist/a.txt]\n      name: bin-$VERSION.zip\n";

fn git(ws: &Workspace, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(ws.source())
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A ZIP primary artifact with its checksums, secondary artifacts by identifier, exported
/// variables, phases with their contexts, identity and source versions of a git work tree.
#[test]
fn summary_has_every_field_and_they_are_right() {
    let ws = Workspace::new(&[("buildspec.yml", BUILDSPEC)]);
    git(&ws, &["init", "-q"]);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "one"]);
    let head = git(&ws, &["rev-parse", "HEAD"]);
    let config = ws.path("projects.yaml");
    std::fs::write(&config, CATALOG).expect("catalog");
    let run = ws.run(&["--config", config.to_str().expect("utf-8")]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let s = &run.summary;
    let uuid = run.uuid().to_owned();
    assert_eq!(s["id"], format!("proj:{uuid}"));
    assert_eq!(s["arn"], format!("arn:aws:codebuild:us-east-1:000000000000:build/proj:{uuid}"));
    assert_eq!(s["buildNumber"], 1);
    assert_eq!(s["buildStatus"], "FAILED");
    assert_eq!(s["sourceVersion"], head.as_str());
    assert_eq!(s["resolvedSourceVersion"], head.as_str());
    let time = |field: &str| {
        s[field].as_str().and_then(kiln_core::build::timestamp::parse_ms).expect("an ISO 8601 time")
    };
    let (start, end) = (time("startTime"), time("endTime"));
    assert!(start > 1_000_000_000_000 && start <= end, "{start} {end}");
    assert!(s["startTime"].as_str().is_some_and(|t| t.ends_with("+00:00")), "{s}");

    let key = format!("MyPath/{uuid}/MyArtifact.zip");
    let zip = ws.object("bkt", &key);
    assert_eq!(s["artifacts"]["location"], format!("s3://bkt/{key}"));
    assert_eq!(s["artifacts"]["sha256sum"], hex::encode(Sha256::digest(&zip)));
    assert!(s["artifacts"]["md5sum"].as_str().is_some_and(|m| m.len() == 32), "{s}");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
    assert_eq!(archive.len(), 1);
    assert_eq!(archive.by_index(0).expect("entry").name().expect("name"), "dist/a.txt");

    let secondary = s["secondaryArtifacts"].as_array().expect("secondary");
    assert_eq!(secondary.len(), 2);
    assert_eq!(secondary[0]["artifactIdentifier"], "docs");
    assert_eq!(secondary[0]["location"], "s3://bkt2/docs");
    assert_eq!(secondary[1]["artifactIdentifier"], "bin");
    assert_eq!(secondary[1]["location"], "s3://bkt2/bin-1.2.3.zip");
    let bin = ws.object("bkt2", "bin-1.2.3.zip");
    assert_eq!(secondary[1]["sha256sum"], hex::encode(Sha256::digest(&bin)));
    assert_eq!(ws.objects("bkt2"), ["bin-1.2.3.zip", "docs/index.html"]);

    assert_eq!(
        s["exportedEnvironmentVariables"],
        serde_json::json!([{"name": "VERSION", "value": "1.2.3"}])
    );
    let phases = s["phases"].as_array().expect("phases");
    let post = phases.iter().find(|p| p["phaseType"] == "POST_BUILD").expect("post_build");
    assert_eq!(post["phaseStatus"], "FAILED");
    assert_eq!(post["contexts"][0]["statusCode"], "COMMAND_EXECUTION_ERROR");
    assert_eq!(
        post["contexts"][0]["message"],
        "Error while executing command: exit 4. Reason: exit status 4"
    );
    assert!(post["durationInSeconds"].is_u64(), "{post}");
    assert_eq!(run.phase("UPLOAD_ARTIFACTS"), Some("SUCCEEDED"));
    assert_eq!(s["reports"], serde_json::json!([]));
}
