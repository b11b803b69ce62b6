//! Test and coverage reports: parsing JUnit and the other formats into CodeBuild's report shape.

mod build;
mod coverage;
mod error;
mod formats;
mod junit;
mod model;
mod xml;

pub use build::{ReportFile, build_report, report_group};
pub use coverage::{CoverageCounts, parse_coverage};
pub use error::ReportError;
pub use formats::{parse_cucumber, parse_xml_report};
pub use junit::{MESSAGE_LIMIT, parse_junit};
pub use model::{
    CaseStatus, CodeCoverageSummary, MAX_TEST_CASES, Report, ReportStatus, TestCase, TestSummary,
};
