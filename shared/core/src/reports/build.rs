//! From parsed files to one [`Report`]: group naming, status, counts and the kept cases.
//!
//! Status: INCOMPLETE when no file matched, any file could not be read or parsed (the reasons
//! in `statusMessage`, the readable files still counted), or the format is not parsed yet;
//! otherwise FAILED when any case FAILED or ERRORed, else SUCCEEDED — a report with zero cases
//! (jest's empty suite) is SUCCEEDED [INF]; a coverage report that could be read is SUCCEEDED
//! with its `codeCoverageSummary` (the counts of all its files summed). A report never fails
//! the build.

use crate::buildspec::ReportFormat;

use super::coverage::CoverageCounts;
use super::model::{
    CodeCoverageSummary, MAX_TEST_CASES, Report, ReportStatus, TestCase, TestSummary,
};

/// One file of a report, as the collector found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportFile {
    /// Parsed: its cases.
    Parsed(Vec<TestCase>),
    /// A coverage file, read: its counts.
    Coverage(CoverageCounts),
    /// Unreadable, corrupt, or of a format kiln does not parse.
    Unusable {
        /// The file, relative to the report's base.
        path: String,
        /// Why (lowercase fragment).
        reason: String,
    },
}

/// The report group of a `reports` key: `(name, ARN)`. A report-group ARN is used as is;
/// any other key names the group `<project>-<key>`, even if a group called `<key>` exists.
pub fn report_group(key: &str, project: &str, region: &str, account: &str) -> (String, String) {
    if key.starts_with("arn:")
        && let Some((_, name)) = key.split_once(":report-group/")
    {
        return (name.to_owned(), key.to_owned());
    }
    let name = format!("{project}-{key}");
    let arn = format!("arn:aws:codebuild:{region}:{account}:report-group/{name}");
    (name, arn)
}

/// Builds the report of group `(name, arn)` in `format` from its files.
pub fn build_report(name: &str, arn: &str, format: ReportFormat, files: Vec<ReportFile>) -> Report {
    let mut summary = TestSummary::default();
    let mut cases: Vec<TestCase> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut coverage: Option<CoverageCounts> = None;
    let no_files = files.is_empty();
    for file in files {
        match file {
            ReportFile::Parsed(parsed) => cases.extend(parsed),
            ReportFile::Coverage(counts) => {
                *coverage.get_or_insert_with(CoverageCounts::default) += counts
            }
            ReportFile::Unusable { path, reason } => problems.push(format!("{path}: {reason}")),
        }
    }
    for case in &cases {
        summary.total += 1;
        *summary.status_counts.entry(case.status.name().to_owned()).or_insert(0) += 1;
        summary.duration_in_nano_seconds =
            summary.duration_in_nano_seconds.saturating_add(case.duration_in_nano_seconds);
    }
    let any_failed = cases.iter().any(|c| c.status.is_failure());
    let (status, status_message) = if no_files {
        (ReportStatus::Incomplete, Some("no report files found".to_owned()))
    } else if !problems.is_empty() {
        (ReportStatus::Incomplete, Some(problems.join("; ")))
    } else if any_failed {
        (ReportStatus::Failed, None)
    } else {
        (ReportStatus::Succeeded, None)
    };
    cases.sort_by_key(|c| !c.status.is_failure());
    cases.truncate(MAX_TEST_CASES);
    Report {
        name: name.to_owned(),
        report_group_arn: arn.to_owned(),
        report_type: if format.is_coverage() { "CODE_COVERAGE" } else { "TEST" }.to_owned(),
        file_format: format.name().to_owned(),
        status,
        status_message,
        test_summary: summary,
        code_coverage_summary: coverage.map(CodeCoverageSummary::from),
        test_cases: cases,
        raw_data_location: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::CaseStatus;

    fn case(name: &str, status: CaseStatus) -> TestCase {
        TestCase {
            test_raw_data_path: "r.xml".into(),
            prefix: "p".into(),
            name: name.into(),
            status,
            duration_in_nano_seconds: 10,
            message: None,
            test_suite_name: "s".into(),
        }
    }

    #[test]
    fn t57_t58_group_names() {
        assert_eq!(
            report_group("unit", "proj", "us-east-1", "123"),
            (
                "proj-unit".to_owned(),
                "arn:aws:codebuild:us-east-1:123:report-group/proj-unit".to_owned()
            )
        );
        let arn = "arn:aws:codebuild:eu-west-1:999:report-group/shared-group";
        assert_eq!(
            report_group(arn, "proj", "us-east-1", "123"),
            ("shared-group".to_owned(), arn.to_owned())
        );
    }

    #[test]
    fn failed_cases_come_first_and_at_most_500_are_kept() {
        let mut cases: Vec<TestCase> =
            (0..15_000).map(|i| case(&format!("ok{i}"), CaseStatus::Succeeded)).collect();
        cases.push(case("bad", CaseStatus::Failed));
        cases.push(case("err", CaseStatus::Error));
        let r = build_report("g", "arn", ReportFormat::JunitXml, vec![ReportFile::Parsed(cases)]);
        assert_eq!(r.status, ReportStatus::Failed);
        assert_eq!(r.test_summary.total, 15_002);
        assert_eq!(r.test_summary.count(CaseStatus::Succeeded), 15_000);
        assert_eq!(r.test_summary.duration_in_nano_seconds, 150_020);
        assert_eq!(r.test_cases.len(), MAX_TEST_CASES);
        assert_eq!(r.test_cases[0].name, "bad");
        assert_eq!(r.test_cases[1].name, "err");
    }

    #[test]
    fn t59_no_files_or_a_corrupt_file_is_incomplete() {
        let r = build_report("g", "arn", ReportFormat::JunitXml, Vec::new());
        assert_eq!(
            (r.status, r.status_message.as_deref()),
            (ReportStatus::Incomplete, Some("no report files found"))
        );
        let files = vec![
            ReportFile::Parsed(vec![case("a", CaseStatus::Succeeded)]),
            ReportFile::Unusable { path: "b.xml".into(), reason: "malformed xml at byte 3".into() },
        ];
        let r = build_report("g", "arn", ReportFormat::JunitXml, files);
        assert_eq!(r.status, ReportStatus::Incomplete);
        assert_eq!(r.status_message.as_deref(), Some("b.xml: malformed xml at byte 3"));
        assert_eq!(r.test_summary.total, 1);
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["testSummary"]["statusCounts"]["UNKNOWN"], 0);
        assert_eq!(json["reportGroupArn"], "arn");
    }
}
