//! JUnit XML in the dialects real tools write: Ant/surefire, pytest, jest, mocha, nextest,
//! TestNG's JUnit reporter, xunit-style files, nested `<testsuite>`s.
//!
//! Read as a stream (a 15,000-case mocha file is never held as a tree). Rules:
//! - every `<testcase>` is one case, wherever it sits; the `tests`/`failures` attributes of
//!   suites are not trusted (mocha writes totals its file does not contain);
//! - `<failure>` → FAILED, `<error>` → ERROR, `<skipped>` (or `<disabled>`) → SKIPPED, none →
//!   SUCCEEDED; a case with both failure and error is FAILED;
//! - reruns: surefire's `<flakyFailure>`/`<flakyError>` and nextest's flaky elements on a case
//!   without `<failure>`/`<error>` mean it failed, then passed on a rerun: it counts as
//!   SUCCEEDED, its message notes the flaky attempts. nextest's `<rerunFailure>` sits beside a
//!   final `<failure>`, so the case is FAILED once, never once per attempt [INF];
//! - the message is the `message` attribute followed by the element's text (stack trace),
//!   cut to [`MESSAGE_LIMIT`] characters;
//! - `time` is seconds (`1,234.5` accepted); a missing or bad one counts as 0;
//! - a document that is not well-formed XML, ends early, or whose root is not `<testsuites>`,
//!   `<testsuite>` or `<testcase>` is an error with the reason (the report becomes INCOMPLETE).

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::error::ReportError;
use super::model::{CaseStatus, TestCase};
use super::xml::attr;

/// The longest message kept for a case, in characters.
pub const MESSAGE_LIMIT: usize = 4096;

#[derive(Debug, Default)]
struct CaseBuilder {
    name: String,
    prefix: String,
    nanos: i64,
    suite: String,
    failed: bool,
    errored: bool,
    skipped: bool,
    flaky: u32,
    message: String,
}

impl CaseBuilder {
    fn finish(mut self, file: &str) -> TestCase {
        let status = if self.failed {
            CaseStatus::Failed
        } else if self.errored {
            CaseStatus::Error
        } else if self.skipped {
            CaseStatus::Skipped
        } else {
            CaseStatus::Succeeded
        };
        if status == CaseStatus::Succeeded && self.flaky > 0 {
            self.message = format!("flaky: passed after {} failed attempt(s)", self.flaky);
        }
        let message = self.message.trim();
        TestCase {
            test_raw_data_path: file.to_owned(),
            prefix: self.prefix,
            name: self.name,
            status,
            duration_in_nano_seconds: self.nanos,
            message: (!message.is_empty()).then(|| message.to_owned()),
            test_suite_name: self.suite,
        }
    }

    fn append(&mut self, text: &str) {
        let room = MESSAGE_LIMIT.saturating_sub(self.message.chars().count());
        self.message.extend(text.chars().take(room));
    }
}

fn seconds_to_nanos(text: Option<String>) -> i64 {
    let secs: f64 = text.and_then(|t| t.replace(',', "").trim().parse().ok()).unwrap_or(0.0);
    if secs.is_finite() && secs > 0.0 {
        (secs * 1e9).round().min(i64::MAX as f64) as i64
    } else {
        0
    }
}

/// What the parser is inside of.
#[derive(Debug, Default)]
struct State {
    open: Vec<String>,
    suites: Vec<String>,
    case: Option<CaseBuilder>,
    /// The depth of the `<failure>`/`<error>`/`<skipped>` whose text is being captured.
    capture_depth: Option<usize>,
    cases: Vec<TestCase>,
    root_checked: bool,
}

impl State {
    fn start(&mut self, e: &BytesStart<'_>, empty: bool, file: &str) -> Result<(), ReportError> {
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        if !self.root_checked {
            self.root_checked = true;
            if !matches!(name.as_str(), "testsuites" | "testsuite" | "testcase") {
                return Err(ReportError::WrongRoot { format: "junit", root: name });
            }
        }
        match name.as_str() {
            "testsuite" => {
                self.suites.push(attr(e, b"name").unwrap_or_default());
                if empty {
                    self.suites.pop();
                }
            }
            "testcase" => {
                let case = CaseBuilder {
                    name: attr(e, b"name").unwrap_or_default(),
                    prefix: attr(e, b"classname").unwrap_or_default(),
                    nanos: seconds_to_nanos(attr(e, b"time")),
                    suite: self.suites.last().cloned().unwrap_or_default(),
                    ..CaseBuilder::default()
                };
                if empty {
                    self.cases.push(case.finish(file));
                } else {
                    self.case = Some(case);
                }
            }
            _ => {
                if let Some(case) = self.case.as_mut() {
                    let direct = self.open.last().is_some_and(|p| p == "testcase");
                    let kind = name.as_str();
                    if direct {
                        match kind {
                            "failure" => case.failed = true,
                            "error" => case.errored = true,
                            "skipped" | "disabled" => case.skipped = true,
                            "flakyFailure" | "flakyError" => case.flaky += 1,
                            _ => {}
                        }
                        if matches!(kind, "failure" | "error" | "skipped")
                            && case.message.is_empty()
                        {
                            if let Some(m) = attr(e, b"message").filter(|m| !m.trim().is_empty()) {
                                case.append(m.trim());
                                case.append("\n");
                            }
                            if !empty {
                                self.capture_depth = Some(self.open.len() + 1);
                            }
                        }
                    }
                }
            }
        }
        if !empty {
            self.open.push(name);
        }
        Ok(())
    }

    fn end(&mut self, file: &str) {
        let depth = self.open.len();
        if self.capture_depth == Some(depth) {
            self.capture_depth = None;
        }
        match self.open.pop().as_deref() {
            Some("testsuite") => {
                self.suites.pop();
            }
            Some("testcase") => {
                if let Some(case) = self.case.take() {
                    self.cases.push(case.finish(file));
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if self.capture_depth == Some(self.open.len())
            && let Some(case) = self.case.as_mut()
        {
            case.append(text);
        }
    }
}

/// Reads one JUnit XML document. `file` is recorded as each case's `testRawDataPath`.
pub fn parse_junit(input: impl BufRead, file: &str) -> Result<Vec<TestCase>, ReportError> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut state = State::default();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|source| ReportError::Xml { position: reader.error_position(), source })?;
        match event {
            Event::Start(e) => state.start(&e, false, file)?,
            Event::Empty(e) => state.start(&e, true, file)?,
            Event::End(_) => state.end(file),
            Event::Text(t) => {
                if let Ok(s) = t.xml_content() {
                    state.text(&s);
                }
            }
            Event::CData(t) => {
                if let Ok(s) = t.decode() {
                    state.text(&s);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => r.decode().ok().and_then(|n| {
                        quick_xml::escape::resolve_predefined_entity(&n).map(str::to_owned)
                    }),
                };
                if let Some(s) = resolved {
                    state.text(&s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if let Some(element) = state.open.pop() {
        return Err(ReportError::Truncated { element });
    }
    if !state.root_checked {
        return Err(ReportError::WrongRoot { format: "junit", root: String::new() });
    }
    Ok(state.cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<Vec<TestCase>, ReportError> {
        parse_junit(xml.as_bytes(), "r.xml")
    }

    #[test]
    fn statuses_messages_and_durations() {
        let cases = parse(
            r#"<testsuites><testsuite name="outer"><testsuite name="inner">
            <testcase classname="c" name="ok" time="1.5"/>
            <testcase classname="c" name="bad" time="0.25"><failure message="boom">at x &lt;y&gt;</failure></testcase>
            <testcase name="err"><error><![CDATA[stack]]></error></testcase>
            <testcase name="skip"><skipped/></testcase>
            </testsuite><testcase name="top" time="1,000"/></testsuite></testsuites>"#,
        )
        .expect("parses");
        let got: Vec<_> =
            cases.iter().map(|c| (c.name.as_str(), c.status, c.test_suite_name.as_str())).collect();
        assert_eq!(
            got,
            [
                ("ok", CaseStatus::Succeeded, "inner"),
                ("bad", CaseStatus::Failed, "inner"),
                ("err", CaseStatus::Error, "inner"),
                ("skip", CaseStatus::Skipped, "inner"),
                ("top", CaseStatus::Succeeded, "outer"),
            ]
        );
        assert_eq!(cases[0].duration_in_nano_seconds, 1_500_000_000);
        assert_eq!(cases[4].duration_in_nano_seconds, 1_000_000_000_000);
        assert_eq!(cases[1].message.as_deref(), Some("boom\nat x <y>"));
        assert_eq!(cases[2].message.as_deref(), Some("stack"));
    }

    #[test]
    fn flaky_cases_that_passed_count_as_succeeded() {
        let cases = parse(
            r#"<testsuite><testcase name="f"><flakyFailure message="m"><stackTrace>s</stackTrace></flakyFailure></testcase>
            <testcase name="r"><failure>final</failure><rerunFailure>again</rerunFailure></testcase></testsuite>"#,
        )
        .expect("parses");
        assert_eq!(cases[0].status, CaseStatus::Succeeded);
        assert_eq!(cases[0].message.as_deref(), Some("flaky: passed after 1 failed attempt(s)"));
        assert_eq!(cases[1].status, CaseStatus::Failed);
        assert_eq!(cases[1].message.as_deref(), Some("final"));
    }

    #[test]
    fn broken_documents_are_errors_with_reasons() {
        let err = parse("<testsuite><testcase name='a'>").expect_err("truncated");
        assert_eq!(err.to_string(), "unexpected end of file inside <testcase>");
        let err = parse("<html><body/></html>").expect_err("not junit");
        assert_eq!(err.to_string(), "not a junit report: the root element is <html>");
        assert!(matches!(parse("<testsuite></testcase>"), Err(ReportError::Xml { .. })));
        assert!(matches!(parse(""), Err(ReportError::WrongRoot { .. })));
    }

    #[test]
    fn long_messages_are_cut() {
        let xml = format!(
            "<testsuite><testcase name='a'><failure>{}</failure></testcase></testsuite>",
            "x".repeat(10_000)
        );
        let cases = parse(&xml).expect("parses");
        assert_eq!(cases[0].message.as_ref().map(String::len), Some(MESSAGE_LIMIT));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse_junit(bytes.as_slice(), "r.xml");
        }
    }
}
