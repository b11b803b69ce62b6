//! Uploading the primary and secondary artifacts: selection, naming, packaging and the summary.
//!
//! Choices [INF]: a buildspec secondary artifact whose identifier is not among the project's
//! `secondaryArtifacts` fails the phase with CLIENT_ERROR naming it; an `artifacts.name` that
//! the shell cannot evaluate fails it too (rather than uploading under a wrong key); a
//! NO_ARTIFACTS primary still uploads the secondary artifacts. Every object carries the
//! `codebuild-buildarn` metadata.
//!
//! Containment: files are listed under `CODEBUILD_SRC_DIR` by [`super::walk`], which never
//! follows a link out of it, and selected by `kiln_core::artifacts`, which refuses paths and
//! base directories whose `..` lead outside; each refusal is a `Warning:` line, and a path
//! refused this way counts as matching nothing (so `no matching artifact paths found` when
//! nothing else matched).

use std::collections::BTreeMap;

use kiln_core::artifacts::{
    ArtifactLayout, ArtifactSettings, Packaging, Selection, artifact_type_enabled,
};
use kiln_core::buildspec::ArtifactsSpec;
use kiln_core::ports::PutOptions;
use kiln_core::project::ProjectArtifacts;

use super::boundary::{ArtifactSummary, UploadInput, UploadOutcome, UploadStatus};
use super::shell;
use super::walk::{find, log_found};
use super::zip::write_zip;
use crate::error_text::error_chain;

type Log<'l> = dyn FnMut(String) + Send + 'l;

/// The metadata every object of the build carries.
pub(super) fn build_metadata(input: &UploadInput<'_>) -> PutOptions {
    PutOptions {
        metadata: BTreeMap::from([("codebuild-buildarn".to_owned(), input.build.arn())]),
        if_absent: false,
    }
}

/// Uploads the primary artifact and the secondary ones; records failures in `outcome.status`.
pub(super) async fn upload_artifacts(
    input: &UploadInput<'_>,
    log: &mut Log<'_>,
    outcome: &mut UploadOutcome,
) {
    let Some(spec) = input.buildspec.artifacts.as_ref() else { return };
    match upload_one(input, log, spec, input.project.artifacts.as_ref(), "artifacts").await {
        Ok(summary) => outcome.artifacts = summary,
        Err(status) => {
            outcome.status = status;
            return;
        }
    }
    for (id, secondary) in &spec.secondary {
        let Some((index, project)) = input
            .project
            .secondary_artifacts
            .iter()
            .enumerate()
            .find(|(_, a)| a.artifact_identifier.as_deref() == Some(id.as_str()))
        else {
            outcome.status = UploadStatus::client_error(format!(
                "secondary artifact {id} is not defined in the project's secondaryArtifacts"
            ));
            return;
        };
        log(format!("Uploading secondary artifact {id}"));
        let field = format!("secondaryArtifacts[{index}]");
        match upload_one(input, log, secondary, Some(project), &field).await {
            Ok(Some(mut summary)) => {
                summary.artifact_identifier = Some(id.clone());
                outcome.secondary_artifacts.push(summary);
            }
            Ok(None) => {}
            Err(status) => {
                outcome.status = status;
                return;
            }
        }
    }
}

async fn upload_one(
    input: &UploadInput<'_>,
    log: &mut Log<'_>,
    spec: &ArtifactsSpec,
    project: Option<&ProjectArtifacts>,
    field: &str,
) -> Result<Option<ArtifactSummary>, UploadStatus> {
    let client = |e: &dyn std::fmt::Display| UploadStatus::client_error(e.to_string());
    if !artifact_type_enabled(project, field).map_err(|e| client(&e))? {
        log(format!("Skipping {field}: the project's artifacts type is NO_ARTIFACTS"));
        return Ok(None);
    }
    let settings = ArtifactSettings::from_project(project, &input.project.name, field)
        .map_err(|e| client(&e))?;
    let name = match (&spec.name, settings.override_name) {
        (Some(text), true) => {
            shell::eval(input.shell, input.env, input.src_dir, text, input.deadline, input.stop)
                .map_err(|e| {
                    UploadStatus::client_error(format!("evaluate artifacts name {text:?}: {e}"))
                })?
        }
        _ => settings.name.clone(),
    };
    let layout =
        ArtifactLayout::new(&settings, &input.build.uuid, &name, spec.s3_prefix.as_deref());

    if let Some(base) = &spec.base_directory {
        log(format!("Expanding base directory path: {base}"));
    }
    log("Assembling file list".to_owned());
    let selection = Selection {
        files: &spec.files,
        base_directory: spec.base_directory.as_deref(),
        discard_paths: spec.discard_paths,
        exclude_paths: &spec.exclude_paths,
        keep_symlinks: spec.enable_symlinks && layout.packaging == Packaging::Zip,
    };
    let found = find(input.src_dir, &selection);
    for pattern in &spec.files {
        log(format!("Expanding {pattern}"));
        if found.selected.skipped.contains(pattern) {
            log(format!("Skipping invalid file path {pattern}"));
        }
    }
    log_found(&found, "", log);
    let selected = found.selected;
    for path in &selected.collisions {
        log(format!(
            "Warning: several files flatten to {path} with discard-paths; the last one is kept"
        ));
    }
    if selected.files.is_empty() {
        return Err(UploadStatus::client_error("no matching artifact paths found"));
    }
    log(format!("Found {} file(s)", selected.files.len()));

    let options = build_metadata(input);
    let upload_error = |e: kiln_core::ports::PortError| {
        UploadStatus::client_error(format!("upload artifacts: {}", error_chain(&e)))
    };
    match layout.packaging {
        Packaging::None => {
            for file in &selected.files {
                let key = layout.file_key(&file.path);
                input
                    .store
                    .put_file(&layout.bucket, &key, &file.source, &options)
                    .await
                    .map_err(upload_error)?;
            }
            log(format!("Uploaded {} file(s) to {}", selected.files.len(), layout.location()));
            Ok(Some(ArtifactSummary {
                location: layout.location(),
                sha256sum: None,
                md5sum: None,
                artifact_identifier: None,
            }))
        }
        Packaging::Zip => {
            let temp = tempfile::NamedTempFile::new().map_err(|e| {
                UploadStatus::client_error(format!("create a temporary file for the zip: {e}"))
            })?;
            let out = temp
                .reopen()
                .map_err(|e| UploadStatus::client_error(format!("open the zip: {e}")))?;
            let files = selected.files;
            let summary = tokio::task::spawn_blocking(move || write_zip(&files, out))
                .await
                .map_err(|e| UploadStatus::client_error(format!("zip the artifacts: {e}")))?
                .map_err(|e| {
                    UploadStatus::client_error(format!("zip the artifacts: {}", error_chain(&e)))
                })?;
            input
                .store
                .put_file(&layout.bucket, &layout.key, temp.path(), &options)
                .await
                .map_err(upload_error)?;
            log(format!(
                "Uploaded {} ({} bytes, {} entries)",
                layout.location(),
                summary.size,
                summary.entries
            ));
            Ok(Some(ArtifactSummary {
                location: layout.location(),
                sha256sum: Some(summary.sha256),
                md5sum: Some(summary.md5),
                artifact_identifier: None,
            }))
        }
    }
}
