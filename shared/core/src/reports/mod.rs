//! Test and coverage reports: parsing JUnit and the other formats into CodeBuild's report shape.

mod build;
mod junit;
mod model;

pub use build::{ReportFile, build_report, report_group};
pub use junit::{JunitError, parse_junit};
pub use model::{CaseStatus, MAX_TEST_CASES, Report, ReportStatus, TestCase, TestSummary};
