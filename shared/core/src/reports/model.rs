//! The report as CodeBuild's BatchGetReports `Report` shows it, and its test cases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// At most this many test cases are kept per report, failed ones first (CodeBuild's limit).
pub const MAX_TEST_CASES: usize = 500;

/// A test case's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStatus {
    /// Passed (including a flaky case that passed on a rerun).
    Succeeded,
    /// An assertion failed (`<failure>`).
    Failed,
    /// The test errored (`<error>`).
    Error,
    /// Skipped or disabled.
    Skipped,
    /// Not determinable.
    Unknown,
}

impl CaseStatus {
    /// All five, as `statusCounts` lists them.
    pub const ALL: [Self; 5] =
        [Self::Succeeded, Self::Failed, Self::Error, Self::Skipped, Self::Unknown];

    /// CodeBuild's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Error => "ERROR",
            Self::Skipped => "SKIPPED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Whether the case counts against the report (FAILED or ERROR).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Error)
    }
}

/// A report's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportStatus {
    /// Every case passed (or was skipped).
    Succeeded,
    /// At least one case failed or errored.
    Failed,
    /// No file, an unreadable or corrupt file, or a format kiln does not parse.
    Incomplete,
}

/// One test case, BatchGetReports `TestCase` fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestCase {
    /// The file it came from, relative to the report's base.
    pub test_raw_data_path: String,
    /// The class or group (`classname`).
    pub prefix: String,
    /// The case's name.
    pub name: String,
    /// Its status.
    pub status: CaseStatus,
    /// How long it ran.
    pub duration_in_nano_seconds: i64,
    /// The failure, error or skip message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The innermost suite it belongs to.
    pub test_suite_name: String,
}

/// `testSummary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestSummary {
    /// How many cases.
    pub total: u64,
    /// Cases by status; all five keys are always present.
    pub status_counts: BTreeMap<String, u64>,
    /// The sum of the cases' durations.
    pub duration_in_nano_seconds: i64,
}

impl Default for TestSummary {
    fn default() -> Self {
        Self {
            total: 0,
            status_counts: CaseStatus::ALL.iter().map(|s| (s.name().to_owned(), 0)).collect(),
            duration_in_nano_seconds: 0,
        }
    }
}

impl TestSummary {
    /// The count for `status`.
    pub fn count(&self, status: CaseStatus) -> u64 {
        self.status_counts.get(status.name()).copied().unwrap_or(0)
    }
}

/// One report, in the shape of BatchGetReports `Report` (plus the kept test cases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The report group's name (`<project>-<key>`, or the group of a report-group ARN).
    pub name: String,
    /// `arn:aws:codebuild:<region>:<account>:report-group/<name>`.
    pub report_group_arn: String,
    /// `TEST` or `CODE_COVERAGE`.
    #[serde(rename = "type")]
    pub report_type: String,
    /// The declared `file-format`.
    pub file_format: String,
    /// SUCCEEDED, FAILED or INCOMPLETE.
    pub status: ReportStatus,
    /// Why the report is INCOMPLETE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Counts and duration (all zero for a coverage report).
    pub test_summary: TestSummary,
    /// Line and branch coverage, for a coverage report that could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_coverage_summary: Option<CodeCoverageSummary>,
    /// At most [`MAX_TEST_CASES`] cases, failed ones first.
    pub test_cases: Vec<TestCase>,
    /// Where the raw report files were stored (`s3://bucket/prefix`), when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_data_location: Option<String>,
}

/// BatchGetReports `codeCoverageSummary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeCoverageSummary {
    /// Lines covered, in percent.
    pub line_coverage_percentage: f64,
    /// Lines covered.
    pub lines_covered: u64,
    /// Lines missed.
    pub lines_missed: u64,
    /// Branches covered, in percent.
    pub branch_coverage_percentage: f64,
    /// Branches covered.
    pub branches_covered: u64,
    /// Branches missed.
    pub branches_missed: u64,
}

impl Eq for CodeCoverageSummary {}
