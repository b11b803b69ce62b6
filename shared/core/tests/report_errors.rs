//! A report file that cannot be parsed is reported once, in one line: the reason the report
//! is INCOMPLETE says what is wrong with each file without repeating a cause (quick-xml's
//! errors print their source themselves, and `error_chain` must not add it a second time).

use kiln_core::buildspec::ReportFormat;
use kiln_core::error_chain;
use kiln_core::reports::{
    ReportFile, ReportStatus, build_report, parse_coverage, parse_cucumber, parse_junit,
    parse_xml_report,
};

/// Why `text` is not a report of `format`, as the report's reason shows it.
fn reason(format: ReportFormat, text: &str) -> String {
    let input = text.as_bytes();
    let error = match format {
        ReportFormat::JunitXml => parse_junit(input, "r").err(),
        ReportFormat::CucumberJson => parse_cucumber(input, "r").err(),
        f if f.is_coverage() => parse_coverage(f, input).err(),
        f => parse_xml_report(f, input, "r").err(),
    };
    error_chain(&error.unwrap_or_else(|| panic!("{format:?} {text:?} parses")))
}

/// Whether any `: `-separated part of `line` ends the line twice in a row (`a: b: b`).
fn repeats(line: &str) -> bool {
    let parts: Vec<&str> = line.split(": ").collect();
    (1..parts.len()).any(|n| {
        (1..=parts.len() / 2)
            .any(|k| n >= k && n + k <= parts.len() && parts[n - k..n] == parts[n..n + k])
    })
}

#[test]
fn a_report_that_cannot_be_parsed_says_why_once() {
    let cases = [
        (ReportFormat::JunitXml, "<testsuite><testcase></testsuite>"),
        (ReportFormat::JunitXml, "<testsuite><testcase><![CDATA[x</testsuite>"),
        (ReportFormat::JunitXml, "<testsuite><!-- x</testsuite>"),
        (ReportFormat::JunitXml, "<testsuite"),
        (ReportFormat::NunitXml, "<test-results><test-case></test-results>"),
        (ReportFormat::CoberturaXml, "<coverage"),
        (ReportFormat::JacocoXml, "<report><counter></report>"),
        (ReportFormat::CucumberJson, "{bad"),
        (ReportFormat::Simplecov, "[1]"),
    ];
    for (format, text) in cases {
        let why = reason(format, text);
        assert!(!repeats(&why), "{format:?} {text:?}: {why}");
    }
    assert_eq!(
        reason(ReportFormat::JunitXml, "<testsuite><testcase></testsuite>"),
        "malformed xml at byte 21: ill-formed document: expected `</testcase>`, but `</testsuite>` was found"
    );
    assert_eq!(
        reason(ReportFormat::CoberturaXml, "<coverage"),
        "malformed xml at byte 0: syntax error: tag not closed: `>` not found before end of input"
    );
}

#[test]
fn the_incomplete_report_names_each_file_and_its_reason_once() {
    let why = reason(ReportFormat::JunitXml, "<testsuite><testcase></testsuite>");
    let files = vec![ReportFile::Unusable { path: "r.xml".into(), reason: why }];
    let report = build_report("g", "arn", ReportFormat::JunitXml, files);
    assert_eq!(report.status, ReportStatus::Incomplete);
    assert_eq!(
        report.status_message.as_deref(),
        Some(
            "r.xml: malformed xml at byte 21: ill-formed document: expected `</testcase>`, but `</testsuite>` was found"
        )
    );
}

#[test]
fn the_repeat_check_finds_repeats() {
    assert!(repeats("malformed xml: ill-formed document: x: x"));
    assert!(repeats("a: b: c: b: c"));
    assert!(!repeats("malformed xml at byte 21: ill-formed document: expected x"));
}
