//! UPLOAD_ARTIFACTS driven by a buildspec read with the real parser: artifacts with secondary
//! artifacts, reports and a keyed cache in one YAML file.

#[path = "upload_common.rs"]
#[allow(dead_code, reason = "shared by several test binaries, each using a part of it")]
mod common;

use common::{Harness, UUID};
use kiln_agent::upload::UploadStatus;
use kiln_core::buildspec::parse;
use kiln_core::project::load_catalog;
use kiln_core::reports::ReportStatus;

const BUILDSPEC: &str = r#"
version: 0.2
phases:
  build:
    commands:
      - make
reports:
  unit:
    files:
      - '**/*.xml'
    base-directory: test-results
artifacts:
  name: site-$CODEBUILD_BUILD_NUMBER.zip
  files:
    - '**/*'
  base-directory: dist
  exclude-paths:
    - '**/*.map'
  secondary-artifacts:
    logs:
      files:
        - logs/*
      discard-paths: yes
cache:
  key: deps-$(codebuild-hash-files package-lock.json 2>/dev/null || echo none)
  paths:
    - node_modules/**/*
"#;

const CATALOG: &str = r#"{"projects": [{
  "name": "proj",
  "artifacts": {"type": "S3", "location": "bkt", "path": "web", "namespaceType": "BUILD_ID",
                "name": "ignored.zip", "packaging": "ZIP", "overrideArtifactName": true},
  "secondaryArtifacts": [{"type": "S3", "location": "logs-bkt", "artifactIdentifier": "logs",
                          "name": "build-logs", "packaging": "NONE"}],
  "cache": {"type": "S3", "location": "cache-bkt"}
}]}"#;

#[tokio::test]
async fn a_parsed_buildspec_and_catalog_project_upload_everything() {
    let parsed = parse(BUILDSPEC);
    let spec =
        parsed.buildspec.unwrap_or_else(|| panic!("valid buildspec: {:#?}", parsed.diagnostics));
    let catalog = load_catalog(CATALOG).expect("catalog");
    let project = catalog.get("proj").expect("project").clone();

    let h = Harness::new();
    h.write(&[
        "dist/index.html",
        "dist/app.js",
        "dist/app.js.map",
        "logs/build.log",
        "test-results/junit.xml",
        "node_modules/a/index.js",
    ]);
    std::fs::write(
        h.src().join("test-results/junit.xml"),
        r#"<testsuite><testcase name="a"/><testcase name="b"><skipped/></testcase></testsuite>"#,
    )
    .expect("write");
    let (out, log) = h.upload(&spec, &project).await;
    assert_eq!(out.status, UploadStatus::Succeeded, "{log:#?}");

    let zip_key = format!("web/{UUID}/site-7.zip");
    assert_eq!(
        out.artifacts.as_ref().map(|a| a.location.clone()),
        Some(format!("s3://bkt/{zip_key}"))
    );
    let bytes = h.objects("bkt").remove(&zip_key).expect("the zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut names: Vec<String> = zip.file_names().map(|n| n.expect("name").into_owned()).collect();
    names.sort();
    assert_eq!(names, ["app.js", "index.html"]);
    let _ = zip.by_name("app.js").expect("entry");

    assert_eq!(h.objects("logs-bkt").into_keys().collect::<Vec<_>>(), ["build-logs/build.log"]);
    assert_eq!(out.reports[0].name, "proj-unit");
    assert_eq!(out.reports[0].status, ReportStatus::Succeeded);
    assert_eq!(out.reports[0].test_summary.total, 2);
    let reports: Vec<String> =
        h.objects("bkt").into_keys().filter(|k| k.contains("kiln-reports")).collect();
    assert_eq!(
        reports,
        [
            format!("web/kiln-reports/{UUID}/proj-unit/junit.xml"),
            format!("web/kiln-reports/{UUID}/proj-unit/report.json")
        ]
    );
    let cache: Vec<String> = h.objects("cache-bkt").into_keys().collect();
    assert_eq!(cache, ["proj/keys/deps-none.tar.zst"]);
}
