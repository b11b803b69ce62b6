//! Collecting the `reports` of a build: files → parsed reports, raw files and report stored.
//!
//! Storage [INF]: beside the artifacts, in the primary artifact bucket (the local default bucket
//! when the project has none), under [`report_prefix`]: every raw file at
//! `<prefix>/<path relative to the report's base>` and the report itself (the BatchGetReports
//! shape, with its test cases) at `<prefix>/report.json`. Storage failures are warnings.
//!
//! Formats: every format CodeBuild reads is parsed (see `kiln_core::reports`): the test
//! formats JUNITXML (every dialect), CUCUMBERJSON, NUNITXML, NUNIT3XML, TESTNGXML and
//! VISUALSTUDIOTRX, and the coverage formats CLOVERXML, COBERTURAXML, JACOCOXML and SIMPLECOV.
//!
//! Report files are selected as artifacts are (see `artifacts.rs`): never through a link out
//! of `CODEBUILD_SRC_DIR`, never with a path whose `..` leads outside it; each refusal is a
//! `Warning: report <name>: ...` line and the report is INCOMPLETE when nothing is left.

use std::io::BufReader;

use kiln_core::artifacts::{ArtifactSettings, LOCAL_DEFAULT_BUCKET, Selection};
use kiln_core::buildspec::{ReportFormat, ReportSpec};
use kiln_core::reports::{
    Report, ReportFile, build_report, parse_coverage, parse_cucumber, parse_junit,
    parse_xml_report, report_group,
};

use super::artifacts::build_metadata;
use super::boundary::UploadInput;
use super::walk::{find, log_found, open_regular};
use crate::error_text::error_chain;

type Log<'l> = dyn FnMut(String) + Send + 'l;

/// The key prefix of a report's objects: `[<artifacts path>/]kiln-reports/<build uuid>/<group>`.
pub fn report_prefix(artifacts_path: &str, build_uuid: &str, group: &str) -> String {
    let path = artifacts_path.trim_matches('/');
    let rest = format!("kiln-reports/{build_uuid}/{group}");
    if path.is_empty() { rest } else { format!("{path}/{rest}") }
}

/// Parses every report of the buildspec and stores it; never fails.
pub(super) async fn collect_reports(input: &UploadInput<'_>, log: &mut Log<'_>) -> Vec<Report> {
    let mut reports = Vec::new();
    let (bucket, path) = match ArtifactSettings::from_project(
        input.project.artifacts.as_ref(),
        &input.project.name,
        "artifacts",
    ) {
        Ok(s) => (s.bucket, s.path),
        Err(_) => (LOCAL_DEFAULT_BUCKET.to_owned(), String::new()),
    };
    for spec in &input.buildspec.reports {
        let (name, arn) =
            report_group(&spec.key, &input.project.name, &input.build.region, &input.build.account);
        log(format!("Preparing to copy {} report {name}", spec.file_format.name()));
        let (mut report, raw) = one_report(input, log, spec, &name, &arn);
        let prefix = report_prefix(&path, &input.build.uuid, &name);
        let options = build_metadata(input);
        let mut stored = true;
        for (rel, source) in &raw {
            let key = format!("{prefix}/{rel}");
            if let Err(e) = input.store.put_file(&bucket, &key, source, &options).await {
                log(format!("Warning: report {name}: cannot store {rel}: {}", error_chain(&e)));
                stored = false;
            }
        }
        if !raw.is_empty() && stored {
            report.raw_data_location = Some(format!("s3://{bucket}/{prefix}"));
        }
        match serde_json::to_vec_pretty(&report) {
            Ok(json) => {
                if let Err(e) = input
                    .store
                    .put_bytes(&bucket, &format!("{prefix}/report.json"), json, &options)
                    .await
                {
                    log(format!(
                        "Warning: report {name}: cannot store the report: {}",
                        error_chain(&e)
                    ));
                }
            }
            Err(e) => log(format!("Warning: report {name}: cannot serialize the report: {e}")),
        }
        let status = serde_json::to_value(report.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let summary = &report.test_summary;
        log(format!("Report {name}: {status}, {} test case(s)", summary.total));
        if let Some(reason) = &report.status_message {
            log(format!("Report {name} is incomplete: {reason}"));
        }
        reports.push(report);
    }
    reports
}

/// The report of `spec` and its raw files `(relative path, source)`.
fn one_report(
    input: &UploadInput<'_>,
    log: &mut Log<'_>,
    spec: &ReportSpec,
    name: &str,
    arn: &str,
) -> (Report, Vec<(String, std::path::PathBuf)>) {
    let found = find(
        input.src_dir,
        &Selection {
            files: &spec.files,
            base_directory: spec.base_directory.as_deref(),
            discard_paths: spec.discard_paths,
            ..Default::default()
        },
    );
    log_found(&found, &format!("report {name}: "), log);
    let selected = found.selected;
    for pattern in &selected.skipped {
        log(format!("Warning: report {name}: no file matches {pattern}"));
    }
    let mut files = Vec::new();
    let mut raw = Vec::new();
    for file in &selected.files {
        raw.push((file.path.clone(), file.source.clone()));
        files.push(parse_file(spec.file_format, &file.source, &file.path));
    }
    (build_report(name, arn, spec.file_format, files), raw)
}

/// Parses one file of `format`; what cannot be parsed becomes an unusable file with the reason.
fn parse_file(format: ReportFormat, source: &std::path::Path, path: &str) -> ReportFile {
    let unusable = |reason: String| ReportFile::Unusable { path: path.to_owned(), reason };
    let file = match open_regular(source) {
        Ok(f) => BufReader::new(f),
        Err(e) => return unusable(format!("cannot read the file: {e}")),
    };
    if format.is_coverage() {
        return match parse_coverage(format, file) {
            Ok(counts) => ReportFile::Coverage(counts),
            Err(e) => unusable(error_chain(&e)),
        };
    }
    let parsed = match format {
        ReportFormat::JunitXml => parse_junit(file, path).map_err(|e| error_chain(&e)),
        ReportFormat::CucumberJson => parse_cucumber(file, path).map_err(|e| error_chain(&e)),
        other => parse_xml_report(other, file, path).map_err(|e| error_chain(&e)),
    };
    match parsed {
        Ok(cases) => ReportFile::Parsed(cases),
        Err(reason) => unusable(reason),
    }
}
