//! Setting up one build on this machine (`kiln run`): project, identity, working copy, data
//! directory layout.
//!
//! Choices [INF] documented for users:
//! - without `--config`, the project is named by `--project` or the source directory's name,
//!   with artifacts `{type S3, location kiln-artifacts, namespaceType BUILD_ID, packaging NONE,
//!   name <project>}`;
//! - the region is `KILN_REGION`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else
//!   `us-east-1`; the account is `KILN_ACCOUNT_ID`, else `000000000000`;
//! - the build image (`CODEBUILD_BUILD_IMAGE`) is the project's `environment.image`, else
//!   `aws/codebuild/amazonlinux-x86_64-standard:5.0`; the timeout is `--timeout`, else the
//!   project's `timeoutInMinutes`, else 60 minutes;
//! - `CODEBUILD_SOURCE_VERSION` and `CODEBUILD_RESOLVED_SOURCE_VERSION` are `HEAD`'s SHA when the
//!   source is a git work tree with a commit; `CODEBUILD_INITIATOR` is the local user's name;
//! - a local run keeps the user's environment and `HOME`;
//! - layout: `DATA_DIR/numbers/<project>/<n>` (claimed build numbers),
//!   `DATA_DIR/builds/<project>/<n>/{src,state,build.log}` (working copy, shell state, log),
//!   `DATA_DIR/s3/<bucket>/<key>` (the object store).

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiln_core::build::{BuildIdentity, HomeMode};
use kiln_core::project::{Project, ProjectArtifacts, load_catalog};

use crate::build::{BuildRequest, BuildspecSource};
use crate::source::{copy_source, head_sha};

/// What `kiln run` was asked.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// `--source`.
    pub source: PathBuf,
    /// `--buildspec`: a path relative to the source, overriding the project's.
    pub buildspec: Option<String>,
    /// `--project`.
    pub project: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--env NAME=VALUE`, in order.
    pub env: Vec<(String, String)>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// `--in-place`.
    pub in_place: bool,
}

/// Why a local build could not be set up (a usage or configuration error: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The source directory does not exist.
    #[error("source directory {0} does not exist")]
    NoSource(PathBuf),
    /// The catalog could not be read.
    #[error("read project catalog {0}")]
    ReadConfig(PathBuf, #[source] std::io::Error),
    /// The catalog is invalid: every problem rendered as `FILE:LINE:COL: error: ...` with the
    /// offending line, one after the other.
    #[error("invalid project catalog {0}\n{1}")]
    Config(PathBuf, String),
    /// The project is not in the catalog.
    #[error("project `{name}` is not in {config}; known projects: {known}")]
    UnknownProject {
        /// The name asked for.
        name: String,
        /// The catalog file.
        config: PathBuf,
        /// The names it has.
        known: String,
    },
    /// Several projects and no `--project`.
    #[error("{config} has several projects; choose one with --project ({known})")]
    ChooseProject {
        /// The catalog file.
        config: PathBuf,
        /// The names it has.
        known: String,
    },
    /// The data directory could not be prepared.
    #[error("prepare data directory {0}")]
    DataDir(PathBuf, #[source] std::io::Error),
    /// The working copy could not be made.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
}

/// A build ready to run locally.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The build.
    pub request: BuildRequest,
    /// Where its log goes.
    pub log_path: PathBuf,
    /// The data directory, absolute.
    pub data_dir: PathBuf,
    /// Warnings about the project catalog (unknown fields, ...), each rendered as
    /// `FILE:LINE:COL: warning: ...` with the offending line, for the user to see before the
    /// build starts.
    pub warnings: Vec<String>,
}

/// The project a local build uses, and the catalog's warnings about it.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The project.
    pub project: Project,
    /// Rendered catalog warnings (see [`Prepared::warnings`]).
    pub warnings: Vec<String>,
}

/// The project for these options.
///
/// # Errors
/// [`SetupError`] when the catalog cannot be read, is invalid, or does not name one project.
pub fn select_project(options: &LocalOptions, source: &Path) -> Result<Selected, SetupError> {
    let Some(config) = &options.config else {
        let name = options.project.clone().unwrap_or_else(|| {
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
        return Ok(Selected { project, warnings: Vec::new() });
    };
    let text =
        std::fs::read_to_string(config).map_err(|e| SetupError::ReadConfig(config.clone(), e))?;
    let file = config.display().to_string();
    let render = |diags: &[kiln_core::diagnostic::Diagnostic]| -> Vec<String> {
        diags.iter().map(|d| d.render_with_path(&file, &text)).collect()
    };
    let catalog = load_catalog(&text)
        .map_err(|e| SetupError::Config(config.clone(), render(&e.diagnostics()).join("\n")))?;
    let warnings = render(&catalog.warnings);
    let known = catalog.projects.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let project = match &options.project {
        Some(name) => catalog.get(name).cloned().ok_or_else(|| SetupError::UnknownProject {
            name: name.clone(),
            config: config.clone(),
            known,
        })?,
        None if catalog.projects.len() == 1 => catalog.projects[0].clone(),
        None => return Err(SetupError::ChooseProject { config: config.clone(), known }),
    };
    Ok(Selected { project, warnings })
}

/// Reads the environment variable `name` when set and not empty.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Sets up the build: project, number, identity, working copy.
pub fn prepare(options: &LocalOptions) -> Result<Prepared, SetupError> {
    let source =
        options.source.canonicalize().map_err(|_| SetupError::NoSource(options.source.clone()))?;
    if !source.is_dir() {
        return Err(SetupError::NoSource(options.source.clone()));
    }
    let Selected { project, warnings } = select_project(options, &source)?;
    std::fs::create_dir_all(&options.data_dir)
        .map_err(|e| SetupError::DataDir(options.data_dir.clone(), e))?;
    let data_dir = options
        .data_dir
        .canonicalize()
        .map_err(|e| SetupError::DataDir(options.data_dir.clone(), e))?;
    let number = kiln_local::claim_build_number(&data_dir, &project.name)
        .map_err(|e| SetupError::DataDir(data_dir.clone(), e))?;
    let region = ["KILN_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|n| env_var(n))
        .unwrap_or_else(|| "us-east-1".into());
    let identity = BuildIdentity {
        project: project.name.clone(),
        uuid: uuid::Uuid::new_v4().to_string(),
        number,
        region,
        account: env_var("KILN_ACCOUNT_ID").unwrap_or_else(|| "000000000000".into()),
    };
    let build_dir =
        data_dir.join("builds").join(safe_component(&project.name)).join(number.to_string());
    let src_dir = if options.in_place {
        source.clone()
    } else {
        let dest = build_dir.join("src");
        copy_source(&source, &dest, &data_dir)?;
        dest
    };
    std::fs::create_dir_all(&build_dir).map_err(|e| SetupError::DataDir(build_dir.clone(), e))?;
    let sha = head_sha(&source);
    let buildspec = match &options.buildspec {
        Some(path) => BuildspecSource::Path(path.clone()),
        None => BuildspecSource::from_setting(
            project.source.as_ref().and_then(|s| s.buildspec.as_deref()),
        ),
    };
    let timeout = options.timeout.unwrap_or_else(|| {
        Duration::from_secs(u64::from(project.timeout_in_minutes.unwrap_or(60)) * 60)
    });
    let initiator = env_var("USER")
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid()).ok().flatten().map(|u| u.name)
        })
        .unwrap_or_else(|| "kiln".into());
    let request = BuildRequest {
        project,
        identity,
        src_dir,
        buildspec,
        base_env: std::env::vars().collect(),
        overrides: options.env.clone(),
        builtins: Vec::new(),
        home: HomeMode::Keep,
        start_ms: crate::build::now_ms(),
        source_version: sha.clone(),
        resolved_source_version: sha,
        initiator,
        timeout,
        state_dir: build_dir.join("state"),
    };
    Ok(Prepared { request, log_path: build_dir.join("build.log"), data_dir, warnings })
}

/// A project name as one safe path component.
fn safe_component(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect()
}
