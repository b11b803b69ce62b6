//! Which project a local build uses: one of a catalog (`--config`, `--project`), or, without a
//! catalog, a project named after the source directory.
//!
//! Without `--config` [INF, documented for users]: the project is named by `--project` or the
//! source directory's name, with artifacts `{type S3, location kiln-artifacts, namespaceType
//! BUILD_ID, packaging NONE, name <project>}`.

use std::path::{Path, PathBuf};

use kiln_core::project::{Project, ProjectArtifacts, load_catalog};

/// Why no project could be chosen (a usage or configuration error: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The catalog could not be read (absent, too large, not UTF-8).
    #[error("read project catalog {0}")]
    Read(PathBuf, #[source] crate::input::InputError),
    /// The catalog is invalid: every problem rendered as `FILE:LINE:COL: error: ...` with the
    /// offending line, one after the other.
    #[error("invalid project catalog {0}\n{1}")]
    Invalid(PathBuf, String),
    /// The project is not in the catalog.
    #[error("project `{name}` is not in {config}; known projects: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The catalog file.
        config: PathBuf,
        /// The names it has.
        known: String,
    },
    /// Several projects and no `--project`.
    #[error("{config} has several projects; choose one with --project ({known})")]
    Choose {
        /// The catalog file.
        config: PathBuf,
        /// The names it has.
        known: String,
    },
}

/// The project, and the catalog's warnings about the file rendered as
/// `FILE:LINE:COL: warning: ...` with the offending line.
pub fn select(
    config: Option<&Path>,
    name: Option<&str>,
    source: &Path,
) -> Result<(Project, Vec<String>), ProjectError> {
    let Some(config) = config else {
        let name = name.map(str::to_owned).unwrap_or_else(|| {
            source
                .file_name()
                .map_or_else(|| "project".to_owned(), |n| n.to_string_lossy().into_owned())
        });
        let project = Project {
            artifacts: Some(ProjectArtifacts {
                artifacts_type: Some("S3".into()),
                location: Some("kiln-artifacts".into()),
                namespace_type: Some("BUILD_ID".into()),
                packaging: Some("NONE".into()),
                name: Some(name.clone()),
                ..ProjectArtifacts::default()
            }),
            name,
            ..Project::default()
        };
        return Ok((project, Vec::new()));
    };
    let text = crate::input::read_text(config, kiln_core::limits::CATALOG)
        .map_err(|e| ProjectError::Read(config.to_path_buf(), e))?;
    let file = config.display().to_string();
    let render = |diags: &[kiln_core::diagnostic::Diagnostic]| -> Vec<String> {
        diags.iter().map(|d| d.render_with_path(&file, &text)).collect()
    };
    let catalog = load_catalog(&text).map_err(|e| {
        ProjectError::Invalid(config.to_path_buf(), render(&e.diagnostics()).join("\n"))
    })?;
    let warnings = render(&catalog.warnings);
    let known = catalog.projects.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let project = match name {
        Some(name) => catalog.get(name).cloned().ok_or_else(|| ProjectError::Unknown {
            name: name.to_owned(),
            config: config.to_path_buf(),
            known,
        })?,
        None if catalog.projects.len() == 1 => catalog.projects[0].clone(),
        None => return Err(ProjectError::Choose { config: config.to_path_buf(), known }),
    };
    Ok((project, warnings))
}
