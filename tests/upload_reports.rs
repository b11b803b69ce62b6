//! Spec §8 T57–T59: report groups, statuses and storage beside the artifacts.

#[path = "upload_common.rs"]
#[allow(dead_code, reason = "shared by several test binaries, each using a part of it")]
mod common;

use common::{Harness, UUID, buildspec, strings};
use kiln_agent::upload::UploadStatus;
use kiln_core::buildspec::{ReportFormat, ReportSpec};
use kiln_core::project::Project;
use kiln_core::reports::{CaseStatus, ReportStatus};

fn report(key: &str, files: &[&str], format: ReportFormat) -> ReportSpec {
    ReportSpec {
        key: key.into(),
        files: strings(files),
        base_directory: None,
        discard_paths: false,
        file_format: format,
    }
}

fn project() -> Project {
    Project { name: "proj".into(), ..Default::default() }
}

const JUNIT: &str = r#"<testsuite name="s"><testcase classname="c" name="ok" time="0.5"/>
<testcase classname="c" name="bad" time="0.25"><failure message="expected 1">trace</failure></testcase></testsuite>"#;

#[tokio::test]
async fn t57_a_plain_key_makes_the_group_project_key_and_the_report_is_stored() {
    let h = Harness::new();
    std::fs::create_dir_all(h.src().join("out")).expect("dir");
    std::fs::write(h.src().join("out/r.xml"), JUNIT).expect("write");
    let mut spec = buildspec();
    spec.reports = vec![report("unit", &["out/r.xml"], ReportFormat::JunitXml)];
    let (out, _) = h.upload(&spec, &project()).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    let r = &out.reports[0];
    assert_eq!(r.name, "proj-unit");
    assert_eq!(
        r.report_group_arn,
        "arn:aws:codebuild:us-east-1:000000000000:report-group/proj-unit"
    );
    assert_eq!((r.status, r.file_format.as_str()), (ReportStatus::Failed, "JUNITXML"));
    assert_eq!((r.test_summary.total, r.test_summary.count(CaseStatus::Failed)), (2, 1));
    assert_eq!(r.test_summary.duration_in_nano_seconds, 750_000_000);
    assert_eq!(r.test_cases[0].message.as_deref(), Some("expected 1\ntrace"));

    let prefix = format!("kiln-reports/{UUID}/proj-unit");
    let objects = h.objects("kiln-artifacts");
    assert_eq!(
        objects.keys().cloned().collect::<Vec<_>>(),
        [format!("{prefix}/out/r.xml"), format!("{prefix}/report.json")]
    );
    let stored: serde_json::Value =
        serde_json::from_slice(&objects[&format!("{prefix}/report.json")]).expect("json");
    assert_eq!(stored["testSummary"]["statusCounts"]["FAILED"], 1);
    assert_eq!(stored["status"], "FAILED");
    assert_eq!(
        r.raw_data_location.as_deref(),
        Some(format!("s3://kiln-artifacts/{prefix}").as_str())
    );
}

#[tokio::test]
async fn t58_a_report_group_arn_is_used_as_is() {
    let h = Harness::new();
    std::fs::write(h.src().join("r.xml"), JUNIT).expect("write");
    let arn = "arn:aws:codebuild:us-east-1:000000000000:report-group/shared";
    let mut spec = buildspec();
    spec.reports = vec![report(arn, &["r.xml"], ReportFormat::JunitXml)];
    let (out, _) = h.upload(&spec, &project()).await;
    assert_eq!(
        (out.reports[0].name.as_str(), out.reports[0].report_group_arn.as_str()),
        ("shared", arn)
    );
}

#[tokio::test]
async fn t59_missing_corrupt_or_unsupported_reports_are_incomplete_and_never_fail_the_phase() {
    let h = Harness::new();
    std::fs::write(h.src().join("bad.xml"), "<testsuite><testcase name='a'>").expect("write");
    std::fs::write(h.src().join("c.json"), "[]").expect("write");
    let mut spec = buildspec();
    spec.reports = vec![
        report("missing", &["missing.xml"], ReportFormat::JunitXml),
        report("corrupt", &["bad.xml"], ReportFormat::JunitXml),
        report("coverage", &["c.json"], ReportFormat::CoberturaXml),
    ];
    let (out, log) = h.upload(&spec, &project()).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    let got: Vec<_> = out
        .reports
        .iter()
        .map(|r| (r.status, r.status_message.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        got,
        [
            (ReportStatus::Incomplete, "no report files found".to_owned()),
            (
                ReportStatus::Incomplete,
                "bad.xml: unexpected end of file inside <testcase>".to_owned()
            ),
            (
                ReportStatus::Incomplete,
                "c.json: not a COBERTURAXML report: the root element is <>".to_owned()
            ),
        ]
    );
    assert!(
        log.contains(&"Warning: report proj-missing: no file matches missing.xml".to_owned()),
        "{log:#?}"
    );
}

#[tokio::test]
async fn a_mocha_sized_report_keeps_500_cases_failed_first() {
    let h = Harness::new();
    let mut xml = String::from("<testsuites name=\"Mocha Tests\"><testsuite name=\"Root Suite\">");
    for i in 0..15_000 {
        xml.push_str(&format!("<testcase name=\"case {i}\" classname=\"c\" time=\"0.0010\">"));
        if i % 1000 == 999 {
            xml.push_str("<failure message=\"no\">stack</failure>");
        }
        xml.push_str("</testcase>");
    }
    xml.push_str("</testsuite></testsuites>");
    std::fs::write(h.src().join("mocha.xml"), xml).expect("write");
    let mut spec = buildspec();
    spec.reports = vec![report("mocha", &["*.xml"], ReportFormat::JunitXml)];
    let (out, _) = h.upload(&spec, &project()).await;
    let r = &out.reports[0];
    assert_eq!((r.test_summary.total, r.test_summary.count(CaseStatus::Failed)), (15_000, 15));
    assert_eq!(r.test_summary.duration_in_nano_seconds, 15_000_000_000);
    assert_eq!(r.test_cases.len(), 500);
    assert!(r.test_cases[..15].iter().all(|c| c.status == CaseStatus::Failed));
    assert_eq!(r.test_cases[15].status, CaseStatus::Succeeded);
}

#[tokio::test]
async fn other_test_formats_are_parsed_through_the_upload() {
    let h = Harness::new();
    let cucumber = r#"[{"name":"F","elements":[{"name":"s","type":"scenario","steps":[{"result":{"status":"failed","error_message":"no"}}]}]}]"#;
    std::fs::write(h.src().join("c.json"), cucumber).expect("write");
    let testng = r#"<testng-results><suite name="S"><test name="T"><class name="A"><test-method status="PASS" name="m"/></class></test></suite></testng-results>"#;
    std::fs::write(h.src().join("testng-results.xml"), testng).expect("write");
    let mut spec = buildspec();
    spec.reports = vec![
        report("cucumber", &["c.json"], ReportFormat::CucumberJson),
        report("testng", &["testng-results.xml"], ReportFormat::TestngXml),
    ];
    let (out, _) = h.upload(&spec, &project()).await;
    let got: Vec<_> =
        out.reports.iter().map(|r| (r.name.as_str(), r.status, r.test_summary.total)).collect();
    assert_eq!(
        got,
        [("proj-cucumber", ReportStatus::Failed, 1), ("proj-testng", ReportStatus::Succeeded, 1)]
    );
}

#[tokio::test]
async fn coverage_reports_carry_a_code_coverage_summary() {
    let h = Harness::new();
    std::fs::write(
        h.src().join("cobertura.xml"),
        r#"<coverage lines-covered="3" lines-valid="4" branches-covered="1" branches-valid="2"/>"#,
    )
    .expect("write");
    let mut spec = buildspec();
    spec.reports = vec![report("cov", &["cobertura.xml"], ReportFormat::CoberturaXml)];
    let (out, _) = h.upload(&spec, &project()).await;
    let json = serde_json::to_value(&out.reports[0]).expect("json");
    assert_eq!(json["type"], "CODE_COVERAGE");
    assert_eq!(json["status"], "SUCCEEDED");
    assert_eq!(json["codeCoverageSummary"]["lineCoveragePercentage"], 75.0);
    assert_eq!(json["codeCoverageSummary"]["branchesMissed"], 1);
}

/// Report paths with `..` never read outside `CODEBUILD_SRC_DIR`, nor do links out of it:
/// nothing outside is parsed or stored.
#[tokio::test]
async fn report_paths_never_read_outside_the_source() {
    let h = Harness::new();
    let outside = h.dir.path().join("state");
    std::fs::create_dir_all(&outside).expect("dir");
    std::fs::write(outside.join("r.xml"), JUNIT).expect("write");
    std::os::unix::fs::symlink(&outside, h.src().join("results")).expect("link");
    let mut spec = buildspec();
    spec.reports = vec![
        report("up", &["../state/r.xml"], ReportFormat::JunitXml),
        report("link", &["results/*.xml"], ReportFormat::JunitXml),
        ReportSpec {
            base_directory: Some("../state".into()),
            ..report("base", &["*.xml"], ReportFormat::JunitXml)
        },
    ];
    let (out, log) = h.upload(&spec, &project()).await;
    assert_eq!(out.status, UploadStatus::Succeeded);
    for r in &out.reports {
        assert_eq!(r.status, ReportStatus::Incomplete, "{}: {log:#?}", r.name);
        assert_eq!(r.test_summary.total, 0, "{}", r.name);
    }
    let stored: Vec<String> = h.objects("kiln-artifacts").into_keys().collect();
    assert!(stored.iter().all(|k| k.ends_with("/report.json")), "{stored:?}");
}
