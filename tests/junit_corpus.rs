//! Every JUnit file of the shared corpus parsed into a report, with counts taken by reading the
//! XML by hand (testcase elements and their `<failure>`/`<error>`/`<skipped>` children).

use std::fs::File;
use std::io::BufReader;

use kiln_core::buildspec::ReportFormat;
use kiln_core::reports::{CaseStatus, ReportFile, ReportStatus, build_report, parse_junit};

/// (file, total, succeeded, failed, error, skipped)
const EXPECTED: &[(&str, u64, u64, u64, u64, u64)] = &[
    (
        "dorny__test-reporter____tests___fixtures_empty_jest-junit-empty-testsuite.xml",
        0,
        0,
        0,
        0,
        0,
    ),
    (
        "dorny__test-reporter____tests___fixtures_external_java_TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml",
        2,
        0,
        1,
        0,
        1,
    ),
    ("dorny__test-reporter____tests___fixtures_external_java_junit4-complete.xml", 8, 5, 1, 1, 1),
    ("dorny__test-reporter____tests___fixtures_jest-junit.xml", 6, 1, 4, 0, 1),
    ("dorny__test-reporter____tests___fixtures_python-xunit-pytest.xml", 10, 6, 2, 0, 2),
    (
        "mikepenz__action-junit-report__test_results_maven_surefire_flaky_surefire-report.xml",
        1,
        1,
        0,
        0,
        0,
    ),
    ("mikepenz__action-junit-report__test_results_mocha_mocha.xml", 1, 1, 0, 0, 0),
    ("mikepenz__action-junit-report__test_results_nested_multi-level.xml", 3, 3, 0, 0, 0),
    ("mikepenz__action-junit-report__test_results_nextest_basic.xml", 3, 2, 1, 0, 0),
    ("mikepenz__action-junit-report__test_results_python_report.xml", 3, 1, 2, 0, 0),
    (
        "mikepenz__action-junit-report__test_results_tests_utils_target_surefire-reports_TEST-action.surefire.report.calc.StringUtilsTest.xml",
        5,
        2,
        2,
        0,
        1,
    ),
    ("mikepenz__action-junit-report__test_results_xunit_report.xml", 4, 3, 1, 0, 0),
    ("nextest-rs__nextest__fixtures_fixture-project-junit.xml", 3, 2, 1, 0, 0),
];

const CORRUPT: &str = "mikepenz__action-junit-report__test_results_corrupt-junit_e2e-tests_corrupt_target_sf-reports_TEST-test.CorruptTest.xml";

fn report_of(path: &std::path::Path, name: &str) -> kiln_core::reports::Report {
    let file = File::open(path).expect("corpus file");
    let parsed = match parse_junit(BufReader::new(file), name) {
        Ok(cases) => ReportFile::Parsed(cases),
        Err(e) => ReportFile::Unusable { path: name.to_owned(), reason: e.to_string() },
    };
    build_report("proj-unit", "arn", ReportFormat::JunitXml, vec![parsed])
}

#[test]
fn every_corpus_file_is_covered_here() {
    let Some(corpora) = kiln_tests::corpora() else { return };
    let mut on_disk: Vec<String> = std::fs::read_dir(corpora.join("junit"))
        .expect("junit dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    on_disk.sort();
    let mut known: Vec<String> =
        EXPECTED.iter().map(|e| e.0.to_owned()).chain([CORRUPT.to_owned()]).collect();
    known.sort();
    assert_eq!(on_disk, known, "a corpus file was added or removed: count it and list it here");
}

#[test]
fn junit_dialects_are_counted() {
    let Some(corpora) = kiln_tests::corpora() else { return };
    for &(name, total, ok, failed, error, skipped) in EXPECTED {
        let report = report_of(&corpora.join("junit").join(name), name);
        let s = &report.test_summary;
        let got = (
            s.total,
            s.count(CaseStatus::Succeeded),
            s.count(CaseStatus::Failed),
            s.count(CaseStatus::Error),
            s.count(CaseStatus::Skipped),
        );
        assert_eq!(got, (total, ok, failed, error, skipped), "{name}");
        let expected_status =
            if failed + error > 0 { ReportStatus::Failed } else { ReportStatus::Succeeded };
        assert_eq!(report.status, expected_status, "{name}");
        assert_eq!(s.count(CaseStatus::Unknown), 0, "{name}");
    }
}

#[test]
fn durations_and_messages_come_from_the_files() {
    let Some(corpora) = kiln_tests::corpora() else { return };
    let name = "mikepenz__action-junit-report__test_results_python_report.xml";
    let report = report_of(&corpora.join("junit").join(name), name);
    assert_eq!(report.test_summary.duration_in_nano_seconds, 2_000_000);
    let first = &report.test_cases[0];
    assert_eq!(
        (first.prefix.as_str(), first.name.as_str()),
        ("python.test_sample", "test_which_fails")
    );
    let message = first.message.as_deref().expect("message");
    assert!(message.starts_with("AssertionError: assert 'test' == 'xyz'\n  - xyz"), "{message}");
    assert!(message.contains("python/test_sample.py:10: AssertionError"), "{message}");
}

#[test]
fn the_corrupt_surefire_file_gives_an_incomplete_report_with_the_reason() {
    let Some(corpora) = kiln_tests::corpora() else { return };
    let report = report_of(&corpora.join("junit").join(CORRUPT), CORRUPT);
    assert_eq!(report.status, ReportStatus::Incomplete);
    let reason = report.status_message.expect("reason");
    assert!(reason.starts_with(CORRUPT) && reason.contains("malformed xml"), "{reason}");
}
