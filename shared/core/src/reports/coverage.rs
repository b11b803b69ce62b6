//! Code coverage reports: CLOVERXML, COBERTURAXML, JACOCOXML and SIMPLECOV → line and branch
//! counts, summed over a report's files.
//!
//! What is read [INF where marked]:
//! - Cobertura: the root `<coverage>`'s `lines-covered`/`lines-valid` and
//!   `branches-covered`/`branches-valid`;
//! - JaCoCo: the `LINE` and `BRANCH` `<counter>`s that are direct children of `<report>`;
//! - Clover: the `<metrics>` of `<project>`: `coveredstatements`/`statements` as lines and
//!   `coveredconditionals`/`conditionals` as branches [INF];
//! - SimpleCov: `.resultset.json` (what simplecov itself writes): per file, `lines` entries
//!   that are not `null` (0 = missed) and every branch count; several commands' results are
//!   merged by taking each line's and branch's highest count.
//!
//! Percentages are covered / (covered + missed) × 100, and 0 when there is nothing to cover.

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::Deserialize;

use super::error::ReportError;
use super::model::CodeCoverageSummary;
use super::xml::attr;
use crate::buildspec::ReportFormat;

/// Covered and missed lines and branches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoverageCounts {
    /// Lines run at least once.
    pub lines_covered: u64,
    /// Lines never run.
    pub lines_missed: u64,
    /// Branches taken at least once.
    pub branches_covered: u64,
    /// Branches never taken.
    pub branches_missed: u64,
}

impl std::ops::AddAssign for CoverageCounts {
    fn add_assign(&mut self, o: Self) {
        self.lines_covered += o.lines_covered;
        self.lines_missed += o.lines_missed;
        self.branches_covered += o.branches_covered;
        self.branches_missed += o.branches_missed;
    }
}

fn percent(covered: u64, missed: u64) -> f64 {
    let total = covered + missed;
    if total == 0 { 0.0 } else { ((covered as f64 * 10_000.0 / total as f64).round()) / 100.0 }
}

impl From<CoverageCounts> for CodeCoverageSummary {
    fn from(c: CoverageCounts) -> Self {
        Self {
            line_coverage_percentage: percent(c.lines_covered, c.lines_missed),
            lines_covered: c.lines_covered,
            lines_missed: c.lines_missed,
            branch_coverage_percentage: percent(c.branches_covered, c.branches_missed),
            branches_covered: c.branches_covered,
            branches_missed: c.branches_missed,
        }
    }
}

fn num(e: &BytesStart<'_>, name: &[u8]) -> u64 {
    attr(e, name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .map_or(0, |v| v.round() as u64)
}

/// Reads one coverage file of `format`.
pub fn parse_coverage(
    format: ReportFormat,
    input: impl BufRead,
) -> Result<CoverageCounts, ReportError> {
    match format {
        ReportFormat::Simplecov => simplecov(input),
        ReportFormat::CoberturaXml | ReportFormat::JacocoXml | ReportFormat::CloverXml => {
            xml(format, input)
        }
        other => Err(ReportError::Unsupported(other.name())),
    }
}

fn xml(format: ReportFormat, input: impl BufRead) -> Result<CoverageCounts, ReportError> {
    let root_name = match format {
        ReportFormat::CoberturaXml => "coverage",
        ReportFormat::JacocoXml => "report",
        _ => "coverage",
    };
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut counts = CoverageCounts::default();
    let mut seen_project_metrics = false;
    let mut root_seen = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|source| ReportError::Xml { position: reader.error_position(), source })?;
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                open.pop();
                buf.clear();
                continue;
            }
            Event::Eof => break,
            _ => {
                buf.clear();
                continue;
            }
        };
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        if open.is_empty() && name != root_name {
            return Err(ReportError::WrongRoot { format: format.name(), root: name });
        }
        root_seen = true;
        match (format, name.as_str(), open.len()) {
            (ReportFormat::CoberturaXml, "coverage", 0) => {
                let (lc, lv) = (num(e, b"lines-covered"), num(e, b"lines-valid"));
                let (bc, bv) = (num(e, b"branches-covered"), num(e, b"branches-valid"));
                counts.lines_covered = lc;
                counts.lines_missed = lv.saturating_sub(lc);
                counts.branches_covered = bc;
                counts.branches_missed = bv.saturating_sub(bc);
            }
            (ReportFormat::JacocoXml, "counter", 1) => match attr(e, b"type").as_deref() {
                Some("LINE") => {
                    counts.lines_covered = num(e, b"covered");
                    counts.lines_missed = num(e, b"missed");
                }
                Some("BRANCH") => {
                    counts.branches_covered = num(e, b"covered");
                    counts.branches_missed = num(e, b"missed");
                }
                _ => {}
            },
            (ReportFormat::CloverXml, "metrics", _)
                if !seen_project_metrics && open.last().is_some_and(|p| p == "project") =>
            {
                seen_project_metrics = true;
                let (s, cs) = (num(e, b"statements"), num(e, b"coveredstatements"));
                let (c, cc) = (num(e, b"conditionals"), num(e, b"coveredconditionals"));
                counts.lines_covered = cs;
                counts.lines_missed = s.saturating_sub(cs);
                counts.branches_covered = cc;
                counts.branches_missed = c.saturating_sub(cc);
            }
            _ => {}
        }
        if !empty {
            open.push(name);
        }
        buf.clear();
    }
    if let Some(element) = open.pop() {
        return Err(ReportError::Truncated { element });
    }
    if !root_seen {
        return Err(ReportError::WrongRoot { format: format.name(), root: String::new() });
    }
    Ok(counts)
}

#[derive(Debug, Deserialize)]
struct Command {
    #[serde(default)]
    coverage: HashMap<String, FileCoverage>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileCoverage {
    Full {
        #[serde(default)]
        lines: Vec<Option<f64>>,
        #[serde(default)]
        branches: HashMap<String, HashMap<String, f64>>,
    },
    Lines(Vec<Option<f64>>),
}

fn simplecov(input: impl BufRead) -> Result<CoverageCounts, ReportError> {
    let commands: HashMap<String, Command> = serde_json::from_reader(input)
        .map_err(|source| ReportError::Json { format: "simplecov", source })?;
    let mut lines: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    let mut branches: HashMap<(String, String, String), f64> = HashMap::new();
    for command in commands.into_values() {
        for (file, cov) in command.coverage {
            let (file_lines, file_branches) = match cov {
                FileCoverage::Full { lines, branches } => (lines, branches),
                FileCoverage::Lines(lines) => (lines, HashMap::new()),
            };
            let merged = lines.entry(file.clone()).or_default();
            if merged.len() < file_lines.len() {
                merged.resize(file_lines.len(), None);
            }
            for (slot, hits) in merged.iter_mut().zip(file_lines) {
                if let Some(h) = hits {
                    *slot = Some(slot.map_or(h, |s| s.max(h)));
                }
            }
            for (condition, arms) in file_branches {
                for (arm, hits) in arms {
                    let e = branches.entry((file.clone(), condition.clone(), arm)).or_insert(0.0);
                    *e = e.max(hits);
                }
            }
        }
    }
    let mut counts = CoverageCounts::default();
    for hits in lines.values().flatten().flatten() {
        if *hits > 0.0 {
            counts.lines_covered += 1;
        } else {
            counts.lines_missed += 1;
        }
    }
    for hits in branches.values() {
        if *hits > 0.0 {
            counts.branches_covered += 1;
        } else {
            counts.branches_missed += 1;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: ReportFormat, text: &str) -> CoverageCounts {
        parse_coverage(format, text.as_bytes()).expect("parses")
    }

    fn counts(lc: u64, lm: u64, bc: u64, bm: u64) -> CoverageCounts {
        CoverageCounts {
            lines_covered: lc,
            lines_missed: lm,
            branches_covered: bc,
            branches_missed: bm,
        }
    }

    #[test]
    fn cobertura_jacoco_and_clover() {
        let cobertura = r#"<?xml version="1.0"?><!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
            <coverage line-rate="0.8" branch-rate="0.5" lines-covered="80" lines-valid="100" branches-covered="5" branches-valid="10" version="1"><packages/></coverage>"#;
        assert_eq!(parse(ReportFormat::CoberturaXml, cobertura), counts(80, 20, 5, 5));
        let jacoco = r#"<report name="r"><package name="p"><counter type="LINE" missed="99" covered="1"/></package>
            <counter type="INSTRUCTION" missed="1" covered="2"/><counter type="BRANCH" missed="3" covered="7"/>
            <counter type="LINE" missed="10" covered="30"/></report>"#;
        assert_eq!(parse(ReportFormat::JacocoXml, jacoco), counts(30, 10, 7, 3));
        let clover = r#"<coverage generated="1"><project timestamp="1"><metrics statements="50" coveredstatements="40" conditionals="8" coveredconditionals="2" elements="58" coveredelements="42"/>
            <file name="a.js"><metrics statements="1" coveredstatements="1"/></file></project></coverage>"#;
        assert_eq!(parse(ReportFormat::CloverXml, clover), counts(40, 10, 2, 6));
        let err = parse_coverage(ReportFormat::JacocoXml, "<coverage/>".as_bytes())
            .expect_err("wrong root");
        assert_eq!(err.to_string(), "not a JACOCOXML report: the root element is <coverage>");
    }

    #[test]
    fn a_corrupt_simplecov_file_names_simplecov() {
        let err = parse_coverage(ReportFormat::Simplecov, "{".as_bytes()).expect_err("corrupt");
        assert_eq!(err.to_string(), "invalid simplecov json");
    }

    #[test]
    fn simplecov_resultset() {
        let json = r#"{"RSpec": {"coverage": {"/app/a.rb": {"lines": [null, 1, 0, 2],
                          "branches": {"[:if, 0, 3, 4, 3, 29]": {"[:then, 1, 3, 4, 3, 15]": 1, "[:else, 2, 3, 4, 3, 29]": 0}}},
                        "/app/b.rb": [1, null, 0]}, "timestamp": 1},
                      "Minitest": {"coverage": {"/app/a.rb": {"lines": [null, 0, 3, 0]}}, "timestamp": 2}}"#;
        assert_eq!(parse(ReportFormat::Simplecov, json), counts(4, 1, 1, 1));
        let summary = CodeCoverageSummary::from(counts(2, 1, 0, 0));
        assert_eq!(
            (summary.line_coverage_percentage, summary.branch_coverage_percentage),
            (66.67, 0.0)
        );
    }
}
