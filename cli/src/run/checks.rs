//! What `kiln run` checks before a build starts, so a mistake costs no build number and copies
//! nothing (exit 2): the buildspec exists and parses (named as the user wrote it), every
//! secondary artifact it declares is defined in the project, every parameter-store and
//! secrets-manager reference has a value in `--secrets`, and the `--summary` file can be
//! written. It also says what a local build will not do as written: a `batch` section runs
//! as one plain build, and `artifacts.name` is ignored unless the project sets
//! `overrideArtifactName`.

use std::path::{Path, PathBuf};

use kiln_core::buildspec::{Buildspec, SecretRef, parse};
use kiln_core::project::{BuildspecSource, Project};
use kiln_local::FileSecretStore;

/// A mistake found before the build.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// No buildspec where one is expected.
    #[error(
        "{shown}: no such file (the buildspec is looked for in the source directory {source_dir}; name another with --buildspec)"
    )]
    Missing {
        /// The path as the user wrote it (or `buildspec.yml`).
        shown: String,
        /// The source directory.
        source_dir: String,
    },
    /// The buildspec could not be read.
    #[error("read the buildspec {0}")]
    Read(String, #[source] std::io::Error),
    /// The buildspec is not UTF-8.
    #[error("the buildspec {0} is not UTF-8 text")]
    NotUtf8(String),
    /// The buildspec is invalid: every error, rendered.
    #[error("invalid buildspec {0}\n{1}")]
    Invalid(String, String),
    /// Secondary artifacts the project does not define.
    #[error("the buildspec's secondary-artifacts {} are not defined in the project's secondaryArtifacts (artifactIdentifier){}", .0.join(", "), defined(.1))]
    UndefinedSecondary(Vec<String>, Vec<String>),
    /// Secret references without a value.
    #[error("no value for {} in --secrets{}: add a NAME=VALUE line for each", .0.join(", "), secrets_file(.1.as_deref()))]
    MissingSecrets(Vec<String>, Option<PathBuf>),
    /// The summary file cannot be written.
    #[error("--summary {0} cannot be written")]
    Summary(String, #[source] std::io::Error),
}

fn defined(ids: &[String]) -> String {
    if ids.is_empty() {
        "; it defines none".to_owned()
    } else {
        format!("; it defines {}", ids.join(", "))
    }
}

fn secrets_file(path: Option<&Path>) -> String {
    path.map_or_else(
        || " (no --secrets file was given)".to_owned(),
        |p| format!(" ({})", p.display()),
    )
}

/// What the checks need.
pub struct Before<'a> {
    /// The project.
    pub project: &'a Project,
    /// The source directory.
    pub source: &'a Path,
    /// `--buildspec`.
    pub buildspec: Option<&'a str>,
    /// The secrets given.
    pub secrets: &'a FileSecretStore,
    /// `--secrets`.
    pub secrets_path: Option<&'a Path>,
    /// `--summary`.
    pub summary: Option<&'a Path>,
}

/// Runs every check; returns the warnings to show.
///
/// # Errors
/// The first [`CheckError`] found.
pub fn before_build(b: &Before<'_>) -> Result<Vec<String>, CheckError> {
    let (file, buildspec) = read_buildspec(b)?;
    check_secondary(&buildspec, b.project)?;
    check_secrets(&buildspec, b.project, b.secrets, b.secrets_path)?;
    if let Some(path) = b.summary {
        check_writable(path)?;
    }
    let mut warnings = Vec::new();
    if buildspec.batch.is_some() {
        warnings.push(format!(
            "{file}: warning: the batch section is not run as a batch: kiln run builds it as one plain build (kiln run --batch is coming)"
        ));
    }
    let override_name =
        b.project.artifacts.as_ref().and_then(|a| a.override_artifact_name).unwrap_or(false);
    if buildspec.artifacts.as_ref().is_some_and(|a| a.name.is_some()) && !override_name {
        warnings.push(format!(
            "{file}: warning: artifacts.name is ignored because the project does not set artifacts.overrideArtifactName: true (the project's artifacts name is used, as in CodeBuild)"
        ));
    }
    Ok(warnings)
}

fn read_buildspec(b: &Before<'_>) -> Result<(String, Buildspec), CheckError> {
    let (shown, text) = match b.project.buildspec_source(b.buildspec) {
        BuildspecSource::Inline(text) => ("the project's inline buildspec".to_owned(), text),
        location => {
            let rel = location.path().unwrap_or("buildspec.yml").to_owned();
            let path = b.source.join(&rel);
            let missing = || CheckError::Missing {
                shown: rel.clone(),
                source_dir: b.source.display().to_string(),
            };
            match std::fs::metadata(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
                Err(e) => return Err(CheckError::Read(rel, e)),
                Ok(m) if m.is_dir() => {
                    return Err(CheckError::Read(rel, std::io::Error::other("it is a directory")));
                }
                Ok(_) => {}
            }
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(
                    std::fs::File::open(&path).map_err(|e| CheckError::Read(rel.clone(), e))?,
                    kiln_agent::build::MAX_BUILDSPEC_BYTES + 1,
                ),
                &mut bytes,
            )
            .map_err(|e| CheckError::Read(rel.clone(), e))?;
            if bytes.len() as u64 > kiln_agent::build::MAX_BUILDSPEC_BYTES {
                let limit = kiln_agent::build::MAX_BUILDSPEC_BYTES;
                return Err(CheckError::Read(
                    rel,
                    std::io::Error::other(format!("larger than {limit} bytes")),
                ));
            }
            let text = String::from_utf8(bytes).map_err(|_| CheckError::NotUtf8(rel.clone()))?;
            (rel, text)
        }
    };
    let parsed = parse(&text);
    match parsed.buildspec {
        Some(buildspec) if parsed.errors().next().is_none() => Ok((shown, buildspec)),
        _ => {
            let rendered: Vec<String> = parsed.errors().map(|d| d.render(&shown, &text)).collect();
            Err(CheckError::Invalid(shown, rendered.join("\n")))
        }
    }
}

fn check_secondary(buildspec: &Buildspec, project: &Project) -> Result<(), CheckError> {
    let Some(artifacts) = &buildspec.artifacts else { return Ok(()) };
    let defined: Vec<String> =
        project.secondary_artifacts.iter().filter_map(|a| a.artifact_identifier.clone()).collect();
    let missing: Vec<String> = artifacts
        .secondary
        .iter()
        .map(|(id, _)| id.clone())
        .filter(|id| !defined.contains(id))
        .collect();
    if missing.is_empty() { Ok(()) } else { Err(CheckError::UndefinedSecondary(missing, defined)) }
}

fn check_secrets(
    buildspec: &Buildspec,
    project: &Project,
    secrets: &FileSecretStore,
    path: Option<&Path>,
) -> Result<(), CheckError> {
    let mut wanted: Vec<String> =
        buildspec.env.parameter_store.iter().map(|(_, p)| p.clone()).collect();
    wanted.extend(buildspec.env.secrets_manager.iter().map(|(_, r)| r.secret_id.clone()));
    for v in project.environment.iter().flat_map(|e| &e.environment_variables) {
        match v.variable_type.as_deref() {
            Some("PARAMETER_STORE") => wanted.push(v.value.clone()),
            Some("SECRETS_MANAGER") => {
                if let Ok(r) = SecretRef::parse(&v.value) {
                    wanted.push(r.secret_id);
                }
            }
            _ => {}
        }
    }
    let mut missing: Vec<String> = wanted.into_iter().filter(|name| !secrets.has(name)).collect();
    missing.dedup();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CheckError::MissingSecrets(missing, path.map(Path::to_path_buf)))
    }
}

fn check_writable(path: &Path) -> Result<(), CheckError> {
    let existed = path.exists();
    let shown = path.display().to_string();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| CheckError::Summary(shown.clone(), e))?;
    if !existed {
        std::fs::remove_file(path).map_err(|e| CheckError::Summary(shown, e))?;
    }
    Ok(())
}
