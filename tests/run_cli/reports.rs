//! Test reports through `kiln run`: the summary's `reports` in BatchGetReports' shape (T57–T59).

use crate::support::Workspace;

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="s" tests="3" failures="1" skipped="1" time="1.5">
    <testcase classname="a.B" name="ok" time="0.5"/>
    <testcase classname="a.B" name="bad" time="1.0"><failure message="boom">trace</failure></testcase>
    <testcase classname="a.B" name="skip"><skipped/></testcase>
  </testsuite>
</testsuites>
"#;

/// A JUnit file written by the build becomes report `proj-unit`; a report whose file is
/// missing is INCOMPLETE and the build still SUCCEEDS; an ARN key keeps its group.
#[test]
fn junit_report_in_summary_and_missing_file_is_incomplete() {
    let ws = Workspace::new(&[
        ("fixture.xml", JUNIT),
        (
            "buildspec.yml",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir -p out && cp fixture.xml out/junit.xml\nreports:\n  unit:\n    files: ['out/*.xml']\n  missing:\n    files: [nothing.xml]\n  arn:aws:codebuild:us-east-1:123456789012:report-group/shared:\n    files: [out/junit.xml]\n",
        ),
    ]);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(run.status(), "SUCCEEDED");
    let reports = run.summary["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 3, "{reports:?}");
    let unit = &reports[0];
    assert_eq!(unit["name"], "proj-unit");
    assert_eq!(
        unit["reportGroupArn"],
        "arn:aws:codebuild:us-east-1:000000000000:report-group/proj-unit"
    );
    assert_eq!(unit["status"], "FAILED");
    assert_eq!(unit["fileFormat"], "JUNITXML");
    assert_eq!(unit["testSummary"]["total"], 3);
    assert_eq!(
        unit["testSummary"]["statusCounts"],
        serde_json::json!({"SUCCEEDED": 1, "FAILED": 1, "ERROR": 0, "SKIPPED": 1, "UNKNOWN": 0})
    );
    assert_eq!(unit["testSummary"]["durationInNanoSeconds"], 1_500_000_000_u64);
    assert_eq!(unit["testCases"][0]["status"], "FAILED", "failed cases first");
    assert_eq!(unit["testCases"][0]["name"], "bad");
    assert!(unit["testCases"][0]["message"].as_str().is_some_and(|m| m.contains("boom")));

    let missing = &reports[1];
    assert_eq!(missing["name"], "proj-missing");
    assert_eq!(missing["status"], "INCOMPLETE");
    assert_eq!(missing["testSummary"]["total"], 0);

    let shared = &reports[2];
    assert_eq!(
        shared["reportGroupArn"],
        "arn:aws:codebuild:us-east-1:123456789012:report-group/shared"
    );
    assert_eq!(shared["status"], "FAILED");

    let objects = ws.objects("kiln-artifacts");
    let raw = format!("kiln-reports/{}/proj-unit/out/junit.xml", run.uuid());
    assert!(objects.contains(&raw), "{objects:?}");
    assert_eq!(ws.object("kiln-artifacts", &raw), JUNIT.as_bytes());
}

/// Reports are collected after a failed BUILD too (UPLOAD_ARTIFACTS still runs).
#[test]
fn reports_collected_after_a_failed_build() {
    let ws = Workspace::new(&[
        ("fixture.xml", JUNIT),
        (
            "buildspec.yml",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - cp fixture.xml junit.xml\n      - exit 2\nreports:\n  unit:\n    files: [junit.xml]\n",
        ),
    ]);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert_eq!(run.summary["reports"][0]["status"], "FAILED", "{}", run.output());
    assert_eq!(run.summary["reports"][0]["testSummary"]["total"], 3);
}
