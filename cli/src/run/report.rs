//! The block `kiln run` prints after the log: each phase with its state and duration, why the
//! build failed, failed test cases by name (the first ten, then a count), artifacts with their
//! S3 URLs and where they are on disk, exported variables, and the log file. In colour on a
//! terminal, plain otherwise; never part of the `--summary` file or the log file.

use std::fmt::Write;
use std::path::Path;

use kiln_core::build::{BuildSummary, PhaseType};
use kiln_core::reports::CaseStatus;

use super::style::Style;

/// How many failed test cases are named.
const FAILED_CASES_NAMED: usize = 10;

/// `path` relative to the current directory when it is below it.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    match cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// Where `location` (`s3://bucket/key`) is under the local object store of `data_dir`.
pub fn local_object(data_dir: &Path, location: &str) -> Option<std::path::PathBuf> {
    let rest = location.strip_prefix("s3://").or_else(|| location.strip_prefix("arn:aws:s3:::"))?;
    let (bucket, key) = rest.split_once('/')?;
    Some(kiln_local::FsObjectStore::new(data_dir).object_path(bucket, key))
}

/// The block for `summary`, whose log is at `log` and objects under `data_dir`.
pub fn block(
    summary: &BuildSummary,
    number_label: &str,
    log: &Path,
    data_dir: &Path,
    style: Style,
) -> String {
    let mut out = String::new();
    let took = human_duration(summary.end_time - summary.start_time);
    let _ = writeln!(
        out,
        "\n{} {} {} in {took}",
        style.bold("Build"),
        style.bold(number_label),
        style.state(summary.build_status.name())
    );
    for p in summary
        .phases
        .iter()
        .filter(|p| p.phase_type >= PhaseType::DownloadSource && p.status.is_some())
    {
        let state = p.status.map_or("", |s| s.name());
        let pad = " ".repeat(10usize.saturating_sub(state.len()));
        let _ = writeln!(
            out,
            "  {:<17} {}{pad} {}",
            p.phase_type.name(),
            style.state(state),
            style.dim(&p.duration_ms().map_or_else(String::new, human_duration))
        );
    }
    if let Some(p) = summary.failing_phase() {
        for c in p.contexts.iter().filter(|c| !c.message.is_empty()) {
            let _ = writeln!(
                out,
                "  {} {}: {} ({})",
                style.state("Failed"),
                p.phase_type,
                c.message,
                c.status_code
            );
        }
    }
    for r in &summary.reports {
        let t = &r.test_summary;
        let failed = t.count(CaseStatus::Failed) + t.count(CaseStatus::Error);
        let _ = writeln!(
            out,
            "  Report {}: {} cases, {} passed, {failed} failed, {} skipped{}",
            r.name,
            t.total,
            t.count(CaseStatus::Succeeded),
            t.count(CaseStatus::Skipped),
            r.status_message.as_ref().map_or_else(String::new, |m| format!(" ({m})"))
        );
        let cases: Vec<_> = r.test_cases.iter().filter(|c| c.status.is_failure()).collect();
        for c in cases.iter().take(FAILED_CASES_NAMED) {
            let name = if c.prefix.is_empty() {
                c.name.clone()
            } else {
                format!("{}.{}", c.prefix, c.name)
            };
            let message = c.message.as_deref().and_then(|m| m.lines().next()).unwrap_or("");
            let _ = writeln!(
                out,
                "    {} {name}{}",
                style.state("✗"),
                if message.is_empty() { String::new() } else { format!(": {message}") }
            );
        }
        if cases.len() > FAILED_CASES_NAMED {
            let _ = writeln!(out, "    and {} more failed", cases.len() - FAILED_CASES_NAMED);
        }
    }
    for a in summary.artifacts.iter().chain(&summary.secondary_artifacts) {
        let name = a.artifact_identifier.as_deref().unwrap_or("artifacts");
        let _ = writeln!(out, "  {name}: {}", a.location);
        if let Some(path) = local_object(data_dir, &a.location).filter(|p| p.exists()) {
            let _ = writeln!(out, "  {:width$}  {}", "", shown(&path), width = name.len());
        }
    }
    for v in &summary.exported_environment_variables {
        let _ = writeln!(out, "  exported {}={}", v.name, v.value);
    }
    let _ = writeln!(out, "  log: {}", shown(log));
    out
}

/// `ms` as `1.2s`, `3m 05s`.
fn human_duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}
