//! The other test formats: TESTNGXML, NUNITXML (NUnit 2), NUNIT3XML, VISUALSTUDIOTRX, read as
//! streams like JUnit, and CUCUMBERJSON.
//!
//! Mapping to case statuses:
//! - TestNG `<test-method status>`: PASS → SUCCEEDED, FAIL → FAILED, SKIP → SKIPPED, other →
//!   UNKNOWN; configuration methods (`is-config="true"`) are not cases; prefix = `<class name>`;
//!   suite = `<test name>`; duration from `duration-ms`; message from `<exception>`'s
//!   `<message>` and `<full-stacktrace>`.
//! - NUnit 2 `<test-case result>`: Success → SUCCEEDED, Failure → FAILED, Error → ERROR,
//!   Ignored/Skipped/NotRunnable → SKIPPED, other (Inconclusive) → UNKNOWN; cases with
//!   `executed="False"` and no result are SKIPPED. NUnit 3 `<test-case result>`: Passed →
//!   SUCCEEDED, Failed → FAILED (ERROR when `label="Error"`), Skipped → SKIPPED, Warning →
//!   SUCCEEDED, other → UNKNOWN. Prefix = `classname` (NUnit 3) or the name up to its last
//!   `.` (NUnit 2); suite = innermost `<test-suite name>`; duration from `duration`/`time`
//!   seconds; message from `<message>` and `<stack-trace>`.
//! - TRX `<UnitTestResult outcome>`: Passed → SUCCEEDED, Failed → FAILED, Error/Timeout/
//!   Aborted → ERROR, NotExecuted → SKIPPED, other → UNKNOWN; duration `hh:mm:ss.fffffff`;
//!   message from `<Message>` and `<StackTrace>`; prefix from the `<TestMethod className>` of
//!   the matching `<UnitTest>` definition when the file has it.
//! - Cucumber JSON: each scenario of each feature is a case; FAILED if a step failed, SKIPPED
//!   if none failed and one was skipped, pending or undefined, else SUCCEEDED; duration = the
//!   sum of the steps' (nanoseconds); message = the first failed step's `error_message`;
//!   prefix = the feature name, suite = the feature URI or name.

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::Deserialize;

use super::error::ReportError;
use super::junit::MESSAGE_LIMIT;
use super::model::{CaseStatus, TestCase};
use super::xml::attr;
use crate::buildspec::ReportFormat;

fn secs(text: Option<String>) -> i64 {
    let s: f64 = text.and_then(|t| t.trim().parse().ok()).unwrap_or(0.0);
    if s.is_finite() && s > 0.0 { (s * 1e9).round().min(i64::MAX as f64) as i64 } else { 0 }
}

/// `hh:mm:ss.fffffff` → nanoseconds.
fn trx_duration(text: Option<String>) -> i64 {
    let Some(t) = text else { return 0 };
    let parts: Vec<&str> = t.split(':').collect();
    let [h, m, s] = parts.as_slice() else { return 0 };
    let h: f64 = h.parse().unwrap_or(0.0);
    let m: f64 = m.parse().unwrap_or(0.0);
    let s: f64 = s.parse().unwrap_or(0.0);
    secs(Some(format!("{}", h * 3600.0 + m * 60.0 + s)))
}

struct Dialect {
    format: ReportFormat,
    roots: &'static [&'static str],
    case: &'static str,
    suites: &'static [&'static str],
    messages: &'static [&'static str],
}

const TESTNG: Dialect = Dialect {
    format: ReportFormat::TestngXml,
    roots: &["testng-results"],
    case: "test-method",
    suites: &["test", "class"],
    messages: &["message", "full-stacktrace"],
};
const NUNIT: Dialect = Dialect {
    format: ReportFormat::NunitXml,
    roots: &["test-results", "test-run"],
    case: "test-case",
    suites: &["test-suite"],
    messages: &["message", "stack-trace"],
};
const NUNIT3: Dialect = Dialect {
    format: ReportFormat::Nunit3Xml,
    roots: &["test-run", "test-results"],
    case: "test-case",
    suites: &["test-suite"],
    messages: &["message", "stack-trace"],
};
const TRX: Dialect = Dialect {
    format: ReportFormat::VisualStudioTrx,
    roots: &["TestRun"],
    case: "UnitTestResult",
    suites: &[],
    messages: &["Message", "StackTrace"],
};

/// A case being read, with the id TRX uses to find its class.
struct Open {
    case: TestCase,
    test_id: Option<String>,
}

fn status_of(format: ReportFormat, e: &BytesStart<'_>) -> CaseStatus {
    let result = match format {
        ReportFormat::TestngXml => attr(e, b"status"),
        ReportFormat::VisualStudioTrx => attr(e, b"outcome"),
        _ => attr(e, b"result"),
    };
    let result = result.unwrap_or_default();
    match (format, result.as_str()) {
        (ReportFormat::TestngXml, "PASS") => CaseStatus::Succeeded,
        (ReportFormat::TestngXml, "FAIL") => CaseStatus::Failed,
        (ReportFormat::TestngXml, "SKIP") => CaseStatus::Skipped,
        (ReportFormat::VisualStudioTrx, "Passed") => CaseStatus::Succeeded,
        (ReportFormat::VisualStudioTrx, "Failed") => CaseStatus::Failed,
        (ReportFormat::VisualStudioTrx, "Error" | "Timeout" | "Aborted") => CaseStatus::Error,
        (ReportFormat::VisualStudioTrx, "NotExecuted") => CaseStatus::Skipped,
        (_, "Success" | "Passed" | "Warning") => CaseStatus::Succeeded,
        (_, "Failed") if attr(e, b"label").as_deref() == Some("Error") => CaseStatus::Error,
        (_, "Failure" | "Failed") => CaseStatus::Failed,
        (_, "Error") => CaseStatus::Error,
        (_, "Ignored" | "Skipped" | "NotRunnable") => CaseStatus::Skipped,
        (_, "") if attr(e, b"executed").as_deref() == Some("False") => CaseStatus::Skipped,
        _ => CaseStatus::Unknown,
    }
}

fn open_case(d: &Dialect, e: &BytesStart<'_>, suites: &[String], file: &str) -> Option<Open> {
    if d.format == ReportFormat::TestngXml && attr(e, b"is-config").as_deref() == Some("true") {
        return None;
    }
    let (name, prefix, nanos) = match d.format {
        ReportFormat::TestngXml => {
            let ms: f64 = attr(e, b"duration-ms").and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let nanos = if ms.is_finite() && ms > 0.0 { (ms * 1e6).round() as i64 } else { 0 };
            (
                attr(e, b"name").unwrap_or_default(),
                suites.last().cloned().unwrap_or_default(),
                nanos,
            )
        }
        ReportFormat::VisualStudioTrx => (
            attr(e, b"testName").unwrap_or_default(),
            String::new(),
            trx_duration(attr(e, b"duration")),
        ),
        _ => {
            let name = attr(e, b"name").unwrap_or_default();
            let prefix = attr(e, b"classname")
                .or_else(|| name.rsplit_once('.').map(|(p, _)| p.to_owned()))
                .unwrap_or_default();
            (name, prefix, secs(attr(e, b"duration").or_else(|| attr(e, b"time"))))
        }
    };
    let suite = match d.format {
        ReportFormat::TestngXml => suites.first().cloned().unwrap_or_default(),
        _ => suites.last().cloned().unwrap_or_default(),
    };
    Some(Open {
        case: TestCase {
            test_raw_data_path: file.to_owned(),
            prefix,
            name,
            status: status_of(d.format, e),
            duration_in_nano_seconds: nanos,
            message: None,
            test_suite_name: suite,
        },
        test_id: attr(e, b"testId"),
    })
}

fn append(case: &mut TestCase, text: &str) {
    let message = case.message.get_or_insert_with(String::new);
    let room = MESSAGE_LIMIT.saturating_sub(message.chars().count());
    message.extend(text.chars().take(room));
}

/// Reads one XML report of `format` (TESTNGXML, NUNITXML, NUNIT3XML or VISUALSTUDIOTRX).
pub fn parse_xml_report(
    format: ReportFormat,
    input: impl BufRead,
    file: &str,
) -> Result<Vec<TestCase>, ReportError> {
    let d = match format {
        ReportFormat::TestngXml => &TESTNG,
        ReportFormat::NunitXml => &NUNIT,
        ReportFormat::Nunit3Xml => &NUNIT3,
        ReportFormat::VisualStudioTrx => &TRX,
        other => return Err(ReportError::Unsupported(other.name())),
    };
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut suites: Vec<String> = Vec::new();
    let mut current: Option<Open> = None;
    let mut capture: Option<usize> = None;
    let mut cases: Vec<Open> = Vec::new();
    let mut classes: HashMap<String, String> = HashMap::new();
    let mut definition: Option<String> = None;
    let mut root_seen = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|source| ReportError::Xml { position: reader.error_position(), source })?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
            if open.is_empty() && !d.roots.contains(&name.as_str()) {
                return Err(ReportError::WrongRoot { format: format.name(), root: name });
            }
            root_seen = true;
            if d.suites.contains(&name.as_str()) {
                suites.push(attr(&e, b"name").unwrap_or_default());
                if empty {
                    suites.pop();
                }
            } else if name == d.case {
                if let Some(o) = open_case(d, &e, &suites, file) {
                    if empty {
                        cases.push(o);
                    } else {
                        current = Some(o);
                    }
                }
            } else if name == "UnitTest" {
                definition = attr(&e, b"id");
            } else if name == "TestMethod" {
                if let (Some(id), Some(class)) = (definition.clone(), attr(&e, b"className")) {
                    classes.insert(id, class);
                }
            } else if current.is_some() && d.messages.contains(&name.as_str()) && !empty {
                if let Some(o) = current.as_mut()
                    && o.case.message.as_ref().is_some_and(|m| !m.is_empty())
                {
                    append(&mut o.case, "\n");
                }
                capture = Some(open.len() + 1);
            }
            if !empty {
                open.push(name);
            }
        } else {
            match event {
                Event::End(_) => {
                    if capture == Some(open.len()) {
                        capture = None;
                    }
                    let closed = open.pop().unwrap_or_default();
                    if d.suites.contains(&closed.as_str()) {
                        suites.pop();
                    } else if closed == d.case {
                        cases.extend(current.take());
                    }
                }
                Event::Text(t) => {
                    if let (Some(depth), Some(o)) = (capture, current.as_mut())
                        && depth == open.len()
                        && let Ok(s) = t.xml_content()
                    {
                        append(&mut o.case, &s);
                    }
                }
                Event::CData(t) => {
                    if let (Some(depth), Some(o)) = (capture, current.as_mut())
                        && depth == open.len()
                        && let Ok(s) = t.decode()
                    {
                        append(&mut o.case, &s);
                    }
                }
                Event::GeneralRef(r) => {
                    if let (Some(depth), Some(o)) = (capture, current.as_mut())
                        && depth == open.len()
                    {
                        let resolved = match r.resolve_char_ref() {
                            Ok(Some(c)) => Some(c.to_string()),
                            _ => r.decode().ok().and_then(|n| {
                                quick_xml::escape::resolve_predefined_entity(&n).map(str::to_owned)
                            }),
                        };
                        if let Some(s) = resolved {
                            append(&mut o.case, &s);
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        buf.clear();
    }
    if let Some(element) = open.pop() {
        return Err(ReportError::Truncated { element });
    }
    if !root_seen {
        return Err(ReportError::WrongRoot { format: format.name(), root: String::new() });
    }
    Ok(cases
        .into_iter()
        .map(|mut o| {
            if let Some(class) = o.test_id.as_ref().and_then(|id| classes.get(id)) {
                o.case.prefix = class.clone();
            }
            if let Some(m) = &o.case.message {
                let trimmed = m.trim();
                o.case.message = (!trimmed.is_empty()).then(|| trimmed.to_owned());
            }
            o.case
        })
        .collect())
}

#[derive(Debug, Deserialize)]
struct Feature {
    #[serde(default)]
    name: String,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    elements: Vec<Scenario>,
}

#[derive(Debug, Deserialize)]
struct Scenario {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    result: Option<StepResult>,
}

#[derive(Debug, Deserialize)]
struct StepResult {
    #[serde(default)]
    status: String,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    error_message: Option<String>,
}

/// Reads one Cucumber JSON report.
pub fn parse_cucumber(input: impl std::io::Read, file: &str) -> Result<Vec<TestCase>, ReportError> {
    let features: Vec<Feature> = serde_json::from_reader(input)
        .map_err(|source| ReportError::Json { format: "cucumber", source })?;
    let mut cases = Vec::new();
    for f in features {
        for s in f.elements.into_iter().filter(|s| s.kind != "background") {
            let results: Vec<&StepResult> =
                s.steps.iter().filter_map(|st| st.result.as_ref()).collect();
            let failed = results.iter().find(|r| r.status == "failed");
            let skipped = results
                .iter()
                .any(|r| matches!(r.status.as_str(), "skipped" | "pending" | "undefined"));
            let status = match (failed, skipped) {
                (Some(_), _) => CaseStatus::Failed,
                (None, true) => CaseStatus::Skipped,
                (None, false) => CaseStatus::Succeeded,
            };
            let nanos: f64 = results
                .iter()
                .filter_map(|r| r.duration)
                .filter(|d| d.is_finite() && *d > 0.0)
                .sum();
            let mut case = TestCase {
                test_raw_data_path: file.to_owned(),
                prefix: f.name.clone(),
                name: s.name,
                status,
                duration_in_nano_seconds: nanos.min(i64::MAX as f64) as i64,
                message: None,
                test_suite_name: if f.uri.is_empty() { f.name.clone() } else { f.uri.clone() },
            };
            if let Some(m) = failed.and_then(|r| r.error_message.as_deref()) {
                append(&mut case, m.trim());
            }
            cases.push(case);
        }
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(cases: &[TestCase]) -> Vec<(&str, &str, CaseStatus)> {
        cases.iter().map(|c| (c.prefix.as_str(), c.name.as_str(), c.status)).collect()
    }

    #[test]
    fn testng_results() {
        let xml = r#"<testng-results><suite name="S"><test name="T"><class name="com.x.A">
            <test-method status="PASS" name="setUp" is-config="true" duration-ms="1"/>
            <test-method status="PASS" name="ok" duration-ms="12"/>
            <test-method status="FAIL" name="bad" duration-ms="3"><exception class="java.lang.AssertionError">
              <message><![CDATA[expected 1]]></message><full-stacktrace><![CDATA[at A.bad]]></full-stacktrace></exception></test-method>
            <test-method status="SKIP" name="later"/></class></test></suite></testng-results>"#;
        let cases =
            parse_xml_report(ReportFormat::TestngXml, xml.as_bytes(), "t.xml").expect("parses");
        assert_eq!(
            statuses(&cases),
            [
                ("com.x.A", "ok", CaseStatus::Succeeded),
                ("com.x.A", "bad", CaseStatus::Failed),
                ("com.x.A", "later", CaseStatus::Skipped)
            ]
        );
        assert_eq!(cases[0].duration_in_nano_seconds, 12_000_000);
        assert_eq!(cases[1].message.as_deref(), Some("expected 1\nat A.bad"));
        assert_eq!(cases[1].test_suite_name, "T");
    }

    #[test]
    fn nunit3_and_nunit2() {
        let xml = r#"<test-run><test-suite type="TestFixture" name="Fix">
            <test-case name="A" fullname="N.Fix.A" classname="N.Fix" result="Passed" duration="0.5"/>
            <test-case name="B" classname="N.Fix" result="Failed" label="Error"><failure><message>boom</message><stack-trace>at B</stack-trace></failure></test-case>
            <test-case name="C" classname="N.Fix" result="Skipped"/></test-suite></test-run>"#;
        let cases =
            parse_xml_report(ReportFormat::Nunit3Xml, xml.as_bytes(), "n.xml").expect("parses");
        assert_eq!(
            statuses(&cases),
            [
                ("N.Fix", "A", CaseStatus::Succeeded),
                ("N.Fix", "B", CaseStatus::Error),
                ("N.Fix", "C", CaseStatus::Skipped)
            ]
        );
        assert_eq!(cases[1].message.as_deref(), Some("boom\nat B"));
        let v2 = r#"<test-results><test-suite name="Fix"><results>
            <test-case name="N.Fix.A" executed="True" result="Success" time="0.010"/>
            <test-case name="N.Fix.B" executed="True" result="Failure"><failure><message>no</message></failure></test-case>
            <test-case name="N.Fix.C" executed="False" result="Ignored"><reason><message>later</message></reason></test-case>
            </results></test-suite></test-results>"#;
        let cases =
            parse_xml_report(ReportFormat::NunitXml, v2.as_bytes(), "n.xml").expect("parses");
        assert_eq!(
            statuses(&cases),
            [
                ("N.Fix", "N.Fix.A", CaseStatus::Succeeded),
                ("N.Fix", "N.Fix.B", CaseStatus::Failed),
                ("N.Fix", "N.Fix.C", CaseStatus::Skipped)
            ]
        );
        assert_eq!(cases[2].message.as_deref(), Some("later"));
    }

    #[test]
    fn trx_with_class_names_from_definitions() {
        let xml = r#"<?xml version="1.0"?><TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>
            <UnitTestResult testId="1" testName="Adds" outcome="Passed" duration="00:00:01.5000000"/>
            <UnitTestResult testId="2" testName="Fails" outcome="Failed" duration="00:00:00.2500000"><Output><ErrorInfo><Message>Assert.Equal() Failure</Message><StackTrace>at T.Fails()</StackTrace></ErrorInfo></Output></UnitTestResult>
            <UnitTestResult testId="3" testName="Later" outcome="NotExecuted"/></Results>
            <TestDefinitions><UnitTest id="1" name="Adds"><TestMethod className="Calc.Tests" name="Adds"/></UnitTest>
            <UnitTest id="2" name="Fails"><TestMethod className="Calc.Tests" name="Fails"/></UnitTest></TestDefinitions></TestRun>"#;
        let cases = parse_xml_report(ReportFormat::VisualStudioTrx, xml.as_bytes(), "r.trx")
            .expect("parses");
        assert_eq!(
            statuses(&cases),
            [
                ("Calc.Tests", "Adds", CaseStatus::Succeeded),
                ("Calc.Tests", "Fails", CaseStatus::Failed),
                ("", "Later", CaseStatus::Skipped)
            ]
        );
        assert_eq!(cases[0].duration_in_nano_seconds, 1_500_000_000);
        assert_eq!(cases[1].message.as_deref(), Some("Assert.Equal() Failure\nat T.Fails()"));
    }

    #[test]
    fn cucumber_json() {
        let json = r#"[{"name":"Login","uri":"features/login.feature","elements":[
            {"name":"ok","type":"scenario","steps":[{"result":{"status":"passed","duration":1000}},{"result":{"status":"passed","duration":500}}]},
            {"name":"bad","type":"scenario","steps":[{"result":{"status":"failed","duration":10,"error_message":"expected true"}},{"result":{"status":"skipped"}}]},
            {"name":"todo","type":"scenario","steps":[{"result":{"status":"undefined"}}]},
            {"name":"bg","type":"background","steps":[]}]}]"#;
        let cases = parse_cucumber(json.as_bytes(), "c.json").expect("parses");
        assert_eq!(
            statuses(&cases),
            [
                ("Login", "ok", CaseStatus::Succeeded),
                ("Login", "bad", CaseStatus::Failed),
                ("Login", "todo", CaseStatus::Skipped)
            ]
        );
        assert_eq!(cases[0].duration_in_nano_seconds, 1500);
        assert_eq!(cases[1].message.as_deref(), Some("expected true"));
        assert!(matches!(
            parse_cucumber("{".as_bytes(), "c.json"),
            Err(ReportError::Json { format: "cucumber", .. })
        ));
    }

    #[test]
    fn wrong_roots_and_unsupported_formats() {
        let err = parse_xml_report(ReportFormat::TestngXml, "<testsuite/>".as_bytes(), "x")
            .expect_err("wrong root");
        assert_eq!(err.to_string(), "not a TESTNGXML report: the root element is <testsuite>");
        let err = parse_xml_report(ReportFormat::NunitXml, "".as_bytes(), "x").expect_err("empty");
        assert_eq!(err.to_string(), "not a NUNITXML report: the root element is <>");
        let err = parse_xml_report(ReportFormat::CloverXml, "<coverage/>".as_bytes(), "x")
            .expect_err("coverage");
        assert_eq!(err.to_string(), "format CLOVERXML not supported yet");
    }
}
