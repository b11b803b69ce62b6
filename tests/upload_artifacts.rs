//! Spec §8 T38–T52: artifact selection, keys, metadata and contents on the local store.

#[path = "upload_common.rs"]
#[allow(dead_code, reason = "shared by several test binaries, each using a part of it")]
mod common;

use std::io::Read;
use std::path::Path;

use common::{Harness, UUID, buildspec, strings};
use kiln_agent::upload::UploadStatus;
use kiln_core::buildspec::ArtifactsSpec;
use kiln_core::ports::ObjectStore;
use kiln_core::project::{Project, ProjectArtifacts};

fn project(artifacts: ProjectArtifacts) -> Project {
    Project { name: "proj".into(), artifacts: Some(artifacts), ..Default::default() }
}

fn s3(name: &str, packaging: &str) -> ProjectArtifacts {
    ProjectArtifacts {
        artifacts_type: Some("S3".into()),
        location: Some("bkt".into()),
        namespace_type: Some("NONE".into()),
        name: Some(name.into()),
        packaging: Some(packaging.into()),
        ..Default::default()
    }
}

fn spec(files: &[&str]) -> ArtifactsSpec {
    ArtifactsSpec { files: strings(files), ..Default::default() }
}

fn keys(h: &Harness, bucket: &str) -> Vec<String> {
    h.objects(bucket).into_keys().collect()
}

async fn run(
    h: &Harness,
    artifacts: ArtifactsSpec,
    p: &Project,
) -> (kiln_agent::upload::UploadOutcome, Vec<String>) {
    let mut b = buildspec();
    b.artifacts = Some(artifacts);
    h.upload(&b, p).await
}

#[tokio::test]
async fn t38_base_directory() {
    let h = Harness::new();
    h.write(&["dist/index.html", "dist/js/app.js", "src/x.ts"]);
    let a = ArtifactsSpec { base_directory: Some("dist".into()), ..spec(&["**/*"]) };
    let (out, _) = run(&h, a, &project(s3("out", "NONE"))).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    assert_eq!(keys(&h, "bkt"), ["out/index.html", "out/js/app.js"]);
    assert_eq!(h.objects("bkt")["out/js/app.js"], b"contents of dist/js/app.js");
    assert_eq!(out.artifacts.expect("summary").location, "s3://bkt/out");
}

#[tokio::test]
async fn t39_discard_paths() {
    let h = Harness::new();
    h.write(&["target/app.jar"]);
    let a = ArtifactsSpec { discard_paths: true, ..spec(&["target/app.jar"]) };
    run(&h, a, &project(s3("out", "NONE"))).await;
    assert_eq!(keys(&h, "bkt"), ["out/app.jar"]);
}

#[tokio::test]
async fn t40_t41_base_directory_globs() {
    let h = Harness::new();
    h.write(&[
        "my-build-1/my-file-1.txt",
        "my-build-2/my-file-2.txt",
        "my-build-2/my-subdirectory/my-file-3.txt",
    ]);
    let a =
        ArtifactsSpec { base_directory: Some("my-build-2".into()), ..spec(&["*/my-file-3.txt"]) };
    run(&h, a, &project(s3("t40", "NONE"))).await;
    let a = ArtifactsSpec {
        base_directory: Some("my-build*".into()),
        discard_paths: true,
        ..spec(&["**/*"])
    };
    run(&h, a, &project(s3("t41", "NONE"))).await;
    assert_eq!(
        keys(&h, "bkt"),
        [
            "t40/my-subdirectory/my-file-3.txt",
            "t41/my-file-1.txt",
            "t41/my-file-2.txt",
            "t41/my-file-3.txt"
        ]
    );
}

#[tokio::test]
async fn t42_nothing_matches_fails_the_phase() {
    let h = Harness::new();
    let (out, log) = run(&h, spec(&["does-not-exist.txt"]), &project(s3("out", "NONE"))).await;
    assert!(log.contains(&"Skipping invalid file path does-not-exist.txt".to_owned()), "{log:#?}");
    assert_eq!(
        out.status,
        UploadStatus::Failed {
            status_code: "CLIENT_ERROR".into(),
            message: "no matching artifact paths found".into()
        }
    );
    assert!(keys(&h, "bkt").is_empty());
}

#[tokio::test]
async fn t43_partial_matches_succeed() {
    let h = Harness::new();
    h.write(&["a.txt"]);
    let (out, log) = run(&h, spec(&["a.txt", "missing.txt"]), &project(s3("out", "NONE"))).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    assert!(log.contains(&"Skipping invalid file path missing.txt".to_owned()));
    assert_eq!(keys(&h, "bkt"), ["out/a.txt"]);
}

#[tokio::test]
async fn t44_t45_exclude_paths_and_single_segment_stars() {
    let h = Harness::new();
    h.write(&["dist/a.js", "dist/a.js.map", "sub/a", "sub/deep/b"]);
    let a = ArtifactsSpec {
        base_directory: Some("dist".into()),
        exclude_paths: strings(&["**/*.map"]),
        ..spec(&["**/*"])
    };
    run(&h, a, &project(s3("t44", "NONE"))).await;
    run(&h, spec(&["sub/*"]), &project(s3("t45", "NONE"))).await;
    assert_eq!(keys(&h, "bkt"), ["t44/a.js", "t45/sub/a"]);
}

#[tokio::test]
async fn t46_zip_under_the_build_id_with_metadata() {
    let h = Harness::new();
    h.write(&["a.txt", "d/b.txt"]);
    let p = project(ProjectArtifacts {
        path: Some("MyPath".into()),
        namespace_type: Some("BUILD_ID".into()),
        ..s3("MyArtifact.zip", "ZIP")
    });
    let (out, _) = run(&h, spec(&["**/*"]), &p).await;
    let key = format!("MyPath/{UUID}/MyArtifact.zip");
    assert_eq!(keys(&h, "bkt"), std::slice::from_ref(&key));
    let info = h.store.head("bkt", &key).await.expect("head");
    assert_eq!(info.metadata.get("codebuild-buildarn"), Some(&h.build.arn()));
    let summary = out.artifacts.expect("summary");
    assert_eq!(summary.location, format!("s3://bkt/{key}"));
    let bytes = &h.objects("bkt")[&key];
    assert_eq!(summary.sha256sum.as_deref(), Some(sha256_hex(bytes).as_str()));
    assert_eq!(summary.md5sum.as_ref().map(String::len), Some(32));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).expect("a zip");
    let mut names: Vec<String> = zip.file_names().map(|n| n.expect("name").into_owned()).collect();
    names.sort();
    assert_eq!(names, ["a.txt", "d/b.txt"]);
    let mut text = String::new();
    zip.by_name("d/b.txt").expect("entry").read_to_string(&mut text).expect("read");
    assert_eq!(text, "contents of d/b.txt");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn t47_t48_folder_and_root_layouts_with_metadata_on_every_object() {
    let h = Harness::new();
    h.write(&["a.txt", "d/b.txt"]);
    run(&h, spec(&["a.txt", "d/b.txt"]), &project(s3("out", "NONE"))).await;
    let (out, _) = run(&h, spec(&["a.txt", "d/b.txt"]), &project(s3("/", "NONE"))).await;
    assert_eq!(keys(&h, "bkt"), ["a.txt", "d/b.txt", "out/a.txt", "out/d/b.txt"]);
    for key in keys(&h, "bkt") {
        let info = h.store.head("bkt", &key).await.expect("head");
        assert_eq!(info.metadata.get("codebuild-buildarn"), Some(&h.build.arn()), "{key}");
    }
    assert_eq!(out.artifacts.expect("summary").location, "s3://bkt/");
}

#[tokio::test]
async fn t49_t50_override_artifact_name() {
    let h = Harness::new();
    h.write(&["a.txt"]);
    let named = ArtifactsSpec {
        name: Some("builds/$CODEBUILD_BUILD_NUMBER/my-artifacts".into()),
        ..spec(&["a.txt"])
    };
    let over = project(ProjectArtifacts { override_artifact_name: Some(true), ..s3("x", "NONE") });
    run(&h, named, &over).await;
    let ignored = ArtifactsSpec { name: Some("foo".into()), ..spec(&["a.txt"]) };
    run(
        &h,
        ignored,
        &project(ProjectArtifacts { override_artifact_name: Some(false), ..s3("x", "NONE") }),
    )
    .await;
    assert_eq!(keys(&h, "bkt"), ["builds/7/my-artifacts/a.txt", "x/a.txt"]);
}

#[tokio::test]
async fn t52_no_artifacts_uploads_nothing() {
    let h = Harness::new();
    h.write(&["a.txt"]);
    let p = project(ProjectArtifacts {
        artifacts_type: Some("NO_ARTIFACTS".into()),
        ..Default::default()
    });
    let (out, _) = run(&h, spec(&["missing"]), &p).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    assert!(out.artifacts.is_none());
    assert!(!h.dir.path().join("data/s3").exists());
}

#[tokio::test]
async fn local_defaults_without_a_project_artifacts_block() {
    let h = Harness::new();
    h.write(&["a.txt"]);
    let p = Project { name: "proj".into(), ..Default::default() };
    let (out, _) = run(&h, spec(&["a.txt"]), &p).await;
    assert_eq!(keys(&h, "kiln-artifacts"), [format!("{UUID}/proj/a.txt")]);
    assert_eq!(
        out.artifacts.expect("summary").location,
        format!("s3://kiln-artifacts/{UUID}/proj")
    );
}

#[tokio::test]
async fn secondary_artifacts_by_identifier_and_s3_prefix() {
    let h = Harness::new();
    h.write(&["a.txt", "docs/i.html"]);
    let mut a = spec(&["a.txt"]);
    let second = ArtifactsSpec {
        s3_prefix: Some("pre".into()),
        base_directory: Some("docs".into()),
        ..spec(&["**/*"])
    };
    a.secondary = vec![("docs".into(), second)];
    let mut p = project(s3("main.zip", "ZIP"));
    p.secondary_artifacts = vec![ProjectArtifacts {
        artifact_identifier: Some("docs".into()),
        location: Some("docs-bkt".into()),
        namespace_type: Some("BUILD_ID".into()),
        ..s3("site", "NONE")
    }];
    let (out, _) = run(&h, a.clone(), &p).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    assert_eq!(keys(&h, "bkt"), ["main.zip"]);
    assert_eq!(keys(&h, "docs-bkt"), [format!("pre/{UUID}/site/i.html")]);
    let s = &out.secondary_artifacts[0];
    assert_eq!(
        (s.artifact_identifier.as_deref(), s.location.as_str()),
        (Some("docs"), format!("s3://docs-bkt/pre/{UUID}/site").as_str())
    );
    let json = serde_json::to_value(s).expect("json");
    assert_eq!(json["artifactIdentifier"], "docs");

    p.secondary_artifacts[0].artifact_identifier = Some("other".into());
    let (out, _) = run(&h, a, &p).await;
    assert!(
        matches!(out.status, UploadStatus::Failed { ref message, .. } if message.contains("docs"))
    );
}

#[tokio::test]
async fn an_unknown_packaging_is_a_client_error_naming_the_field() {
    let h = Harness::new();
    h.write(&["a.txt"]);
    let (out, _) = run(&h, spec(&["a.txt"]), &project(s3("x", "TAR"))).await;
    assert_eq!(
        out.status,
        UploadStatus::client_error("invalid value \"TAR\" for artifacts.packaging")
    );
}

#[tokio::test]
async fn enable_symlinks_keeps_links_in_the_zip() {
    let h = Harness::new();
    h.write(&["real.txt"]);
    std::os::unix::fs::symlink("real.txt", h.src().join("link.txt")).expect("symlink");
    let a = ArtifactsSpec { enable_symlinks: true, ..spec(&["*.txt"]) };
    run(&h, a, &project(s3("out.zip", "ZIP"))).await;
    let bytes = h.objects("bkt")["out.zip"].clone();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let link = zip.by_name("link.txt").expect("link");
    assert_eq!(link.unix_mode().map(|m| m & 0o170_000), Some(0o120_000));
}

/// The names in the ZIP stored at `key` of `bkt`, sorted, with whether each is a link.
fn zip_names(h: &Harness, key: &str) -> Vec<(String, bool)> {
    let bytes = h.objects("bkt")[key].clone();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut names: Vec<(String, bool)> = (0..zip.len())
        .map(|i| {
            let e = zip.by_index(i).expect("entry");
            let link = e.unix_mode().is_some_and(|m| m & 0o170_000 == 0o120_000);
            (e.name().expect("a utf-8 name").into_owned(), link)
        })
        .collect();
    names.sort();
    names
}

/// A file outside the working copy that a hostile buildspec would like to ship.
fn secret_outside(h: &Harness) -> std::path::PathBuf {
    let state = h.dir.path().join("state");
    std::fs::create_dir_all(&state).expect("state");
    std::fs::write(state.join("restore.sh"), "export TOKEN=secret").expect("secret");
    state
}

/// `..` in `files` or `base-directory` never reads outside `CODEBUILD_SRC_DIR`, and no ZIP
/// entry is named with `..` (zip-slip); a path that stays inside after `..` still works.
#[tokio::test]
async fn dot_dot_paths_never_read_outside_the_source() {
    let h = Harness::new();
    secret_outside(&h);
    h.write(&["a.txt", "dist/b.txt"]);
    let a = spec(&["../state/restore.sh", "a.txt", "dist/../dist/b.txt", "../../**/*.sh"]);
    let (out, log) = run(&h, a, &project(s3("out.zip", "ZIP"))).await;
    assert_eq!(out.status, UploadStatus::Succeeded, "{log:#?}");
    assert_eq!(
        zip_names(&h, "out.zip"),
        [("a.txt".to_owned(), false), ("dist/b.txt".to_owned(), false)],
        "{log:#?}"
    );
    assert!(log.iter().any(|l| l.contains("../state/restore.sh") && l.contains("outside")));

    let base = ArtifactsSpec { base_directory: Some("..".into()), ..spec(&["state/*"]) };
    let (out, log) = run(&h, base, &project(s3("base", "NONE"))).await;
    assert_eq!(out.status, UploadStatus::client_error("no matching artifact paths found"));
    assert!(log.iter().any(|l| l.contains("base-directory ..") && l.contains("outside")));
    let deep = ArtifactsSpec { base_directory: Some("dist/../..".into()), ..spec(&["**/*"]) };
    let (out, _) = run(&h, deep, &project(s3("deep", "NONE"))).await;
    assert_eq!(out.status, UploadStatus::client_error("no matching artifact paths found"));
    assert!(keys(&h, "bkt").iter().all(|k| !k.contains("restore.sh")), "{:?}", keys(&h, "bkt"));
}

/// A link leading out of the working copy (`root -> /` in the review; a directory outside
/// here) is never followed — not by a glob, a literal path through it, or a base-directory —
/// and never kept as a link even with `enable-symlinks`; links that stay inside still work.
#[tokio::test]
async fn links_leading_out_of_the_source_are_never_followed() {
    let h = Harness::new();
    let state = secret_outside(&h);
    h.write(&["a.txt", "v2/app.js"]);
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, h.src().join(name)).expect("symlink")
    };
    link(&state, "root");
    link(&state.join("restore.sh"), "leak.sh");
    link(Path::new("../state/restore.sh"), "up.sh");
    link(Path::new("a.txt"), "in.txt");
    link(Path::new("v2"), "current");

    let (out, log) = run(&h, spec(&["**/*", "root/restore.sh"]), &project(s3("all", "NONE"))).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    assert_eq!(
        keys(&h, "bkt"),
        ["all/a.txt", "all/current/app.js", "all/in.txt", "all/v2/app.js"],
        "{log:#?}"
    );
    assert_eq!(h.objects("bkt")["all/in.txt"], b"contents of a.txt");
    assert!(log.iter().any(|l| l.contains("root") && l.contains("outside")), "{log:#?}");

    let base = ArtifactsSpec { base_directory: Some("ro*".into()), ..spec(&["**/*"]) };
    let (out, _) = run(&h, base, &project(s3("base", "NONE"))).await;
    assert_eq!(out.status, UploadStatus::client_error("no matching artifact paths found"));

    let kept = ArtifactsSpec { enable_symlinks: true, ..spec(&["**/*"]) };
    let (out, log) = run(&h, kept, &project(s3("kept.zip", "ZIP"))).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    assert_eq!(
        zip_names(&h, "kept.zip"),
        [
            ("a.txt".to_owned(), false),
            ("current".to_owned(), true),
            ("in.txt".to_owned(), true),
            ("v2/app.js".to_owned(), false),
        ],
        "{log:#?}"
    );
}
