//! DOWNLOAD_SOURCE: the source put in place, the buildspec found and read, parameter-store and
//! secrets-manager values resolved.
//!
//! Messages follow CodeBuild's (spec §1.1, §1.6): a missing default buildspec is
//! `YAML file does not exist`; a missing custom path is
//! `stat <absolute path>: no such file or directory`; a buildspec that is a directory, not UTF-8
//! or too large says so; an invalid buildspec gives the parser's `file:line:col` diagnostics.
//! Missing secrets fail the phase with `CLIENT_ERROR` [INF: the status code is undocumented] and
//! a message naming every missing one: `Parameter does not exist: <name>`,
//! `Secret does not exist: <id>`. A build without secrets (a fork's pull request under
//! `kiln.forkPullRequests: without-secrets`) resolves none: its secret variables are left unset
//! and the log names them.

use std::io::Read;
use std::path::{Path, PathBuf};

use kiln_core::build::{PhaseContext, SourceSpec};
use kiln_core::buildspec::{Buildspec, SecretRef, SecretRefError, parse};
use kiln_core::ports::{PortError, PortErrorKind, SecretStore};
use kiln_core::project::{BuildspecSource, Project};

use crate::source::SourceError;

/// The largest buildspec the agent reads.
pub const MAX_BUILDSPEC_BYTES: u64 = kiln_core::limits::BUILDSPEC.bytes;

/// Why DOWNLOAD_SOURCE failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The default `buildspec.yml` is absent.
    #[error("YAML file does not exist")]
    MissingDefault,
    /// A buildspec path is absent.
    #[error("stat {}: no such file or directory", .0.display())]
    MissingPath(PathBuf),
    /// The buildspec path names a directory.
    #[error("{} is a directory, not a buildspec file", .0.display())]
    NotAFile(PathBuf),
    /// The buildspec is not UTF-8.
    #[error("{} is not UTF-8 text", .0.display())]
    NotUtf8(PathBuf),
    /// The buildspec is too large.
    #[error("{} is larger than {MAX_BUILDSPEC_BYTES} bytes", .0.display())]
    TooLarge(PathBuf),
    /// The buildspec could not be read.
    #[error("read {}", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    /// The buildspec is invalid: the diagnostics' headlines.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// `env.shell` names a Windows shell.
    #[error("env.shell: Windows shells are not supported on Linux")]
    WindowsShell,
    /// Secrets could not be resolved.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Secrets(Vec<SecretError>),
    /// `run-as` cannot be honoured.
    #[error(transparent)]
    RunAs(#[from] crate::shell::RunAsError),
    /// The source could not be put in place.
    #[error("fetch the source")]
    Source(#[from] SourceError),
    /// The build's directories could not be made.
    #[error("create the build's directories")]
    Workspace(#[source] std::io::Error),
    /// The shell cannot start (a variable no process can be given).
    #[error(transparent)]
    Shell(#[from] crate::shell::ShellError),
}

impl DownloadError {
    /// The phase context CodeBuild would show.
    pub fn context(&self) -> PhaseContext {
        let message = kiln_core::error_chain(self);
        match self {
            Self::MissingDefault
            | Self::MissingPath(_)
            | Self::NotAFile(_)
            | Self::NotUtf8(_)
            | Self::TooLarge(_)
            | Self::Read(..)
            | Self::Invalid(_)
            | Self::WindowsShell => PhaseContext::yaml(message),
            Self::Secrets(_) | Self::RunAs(_) | Self::Source(_) | Self::Shell(_) => {
                PhaseContext::new("CLIENT_ERROR", message)
            }
            Self::Workspace(_) => PhaseContext::new("CLIENT_ERROR", message),
        }
    }
}

/// One secret variable that could not be resolved. Never holds a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No such parameter.
    #[error("Parameter does not exist: {0}")]
    ParameterMissing(String),
    /// The parameter could not be read.
    #[error("Parameter could not be read: {0}: {1}")]
    ParameterUnreadable(String, #[source] PortError),
    /// No such secret.
    #[error("Secret does not exist: {0}")]
    SecretMissing(String),
    /// The secret could not be read.
    #[error("Secret could not be read: {0}: {1}")]
    SecretUnreadable(String, #[source] PortError),
    /// The secret is not JSON but a key was asked for.
    #[error("Secret {0} is not JSON, cannot read key {1}")]
    NotJson(String, String),
    /// The JSON secret has no such key.
    #[error("Secret {0} has no key {1}")]
    NoKey(String, String),
    /// A project variable's secret reference is malformed.
    #[error("{0}: {1}")]
    Reference(String, #[source] SecretRefError),
}

/// A buildspec that was read, with the headlines of its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The buildspec.
    pub buildspec: Buildspec,
    /// `file:line:col: warning: message` for each warning.
    pub warnings: Vec<String>,
}

/// Puts the source in place at `src_dir`: a copy of a directory (leaving out what the spec
/// excludes), a directory built in place, a git repository at its commit, or an empty directory
/// for `NO_SOURCE`. Returns the commit checked out for a git source.
///
/// # Errors
/// [`DownloadError`] when the source cannot be put in place.
pub fn fetch_source(
    source: &SourceSpec,
    src_dir: &Path,
    credential: Option<&secrecy::SecretString>,
) -> Result<Option<String>, DownloadError> {
    match source {
        SourceSpec::Directory { in_place: true, .. } => Ok(None),
        SourceSpec::Directory { path, in_place: false, exclude } => {
            let skip = exclude.first().cloned().unwrap_or_else(|| src_dir.to_path_buf());
            crate::source::copy_source(path, src_dir, &skip)?;
            Ok(None)
        }
        SourceSpec::NoSource => {
            std::fs::create_dir_all(src_dir).map_err(DownloadError::Workspace)?;
            Ok(None)
        }
        SourceSpec::Git(git) => Ok(Some(crate::source::fetch_git(git, src_dir, credential)?)),
    }
}

/// Reads and parses the buildspec.
///
/// # Errors
/// [`DownloadError`] when it is absent, unreadable or invalid.
pub fn load_buildspec(src_dir: &Path, source: &BuildspecSource) -> Result<Loaded, DownloadError> {
    let (file, text) = match source {
        BuildspecSource::Inline(text) => ("buildspec".to_owned(), text.clone()),
        BuildspecSource::Default => {
            let path = src_dir.join("buildspec.yml");
            match read_buildspec(&path) {
                Err(DownloadError::MissingPath(_)) => return Err(DownloadError::MissingDefault),
                other => ("buildspec.yml".to_owned(), other?),
            }
        }
        BuildspecSource::Path(rel) => (rel.clone(), read_buildspec(&src_dir.join(rel))?),
    };
    let parsed = parse(&text);
    let warnings =
        parsed.diagnostics.iter().filter(|d| !d.is_error()).map(|d| d.headline(&file)).collect();
    match parsed.buildspec {
        Some(buildspec) => Ok(Loaded { buildspec, warnings }),
        None => Err(DownloadError::Invalid(parsed.errors().map(|d| d.headline(&file)).collect())),
    }
}

fn read_buildspec(path: &Path) -> Result<String, DownloadError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DownloadError::MissingPath(path.to_path_buf()));
        }
        Err(e) => return Err(DownloadError::Read(path.to_path_buf(), e)),
    };
    if meta.is_dir() {
        return Err(DownloadError::NotAFile(path.to_path_buf()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BUILDSPEC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| DownloadError::Read(path.to_path_buf(), e))?;
    if bytes.len() as u64 > MAX_BUILDSPEC_BYTES {
        return Err(DownloadError::TooLarge(path.to_path_buf()));
    }
    String::from_utf8(bytes).map_err(|_| DownloadError::NotUtf8(path.to_path_buf()))
}

/// Resolved variables: the buildspec's layer, the project's layer, and every secret value.
/// Its `Debug` output leaves the values out.
#[derive(Clone, Default)]
pub struct ResolvedEnv {
    /// `env.variables`, then `parameter-store`, then `secrets-manager` values.
    pub buildspec: Vec<(String, String)>,
    /// The project's `environmentVariables`.
    pub project: Vec<(String, String)>,
    /// Values to mask.
    pub secrets: Vec<String>,
    /// The names of the variables taken from parameter-store or secrets-manager (never
    /// exported).
    pub secret_names: Vec<String>,
    /// The secret variables left unset because the build may not read secrets.
    pub withheld: Vec<String>,
}

impl std::fmt::Debug for ResolvedEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |layer: &[(String, String)]| -> Vec<String> {
            layer.iter().map(|(name, _)| name.clone()).collect()
        };
        f.debug_struct("ResolvedEnv")
            .field("buildspec", &names(&self.buildspec))
            .field("project", &names(&self.project))
            .field("secret_names", &self.secret_names)
            .field("withheld", &self.withheld)
            .finish_non_exhaustive()
    }
}

impl ResolvedEnv {
    /// Adds a variable whose value is a secret to the project's layer or the buildspec's.
    fn push_secret(&mut self, project: bool, name: &str, value: String) {
        self.secret_names.push(name.to_owned());
        self.secrets.push(value.clone());
        let layer = if project { &mut self.project } else { &mut self.buildspec };
        layer.push((name.to_owned(), value));
    }
}

/// Resolves the buildspec's and the project's variables through `store`; with
/// `with_secrets` false, secret variables are withheld instead (see the module docs).
///
/// # Errors
/// [`DownloadError::Secrets`] naming every secret that could not be resolved.
pub async fn resolve_env(
    buildspec: &Buildspec,
    project: &Project,
    store: &dyn SecretStore,
    with_secrets: bool,
) -> Result<ResolvedEnv, DownloadError> {
    let mut out =
        ResolvedEnv { buildspec: buildspec.env.variables.clone(), ..ResolvedEnv::default() };
    let mut missing = Vec::new();
    for (name, parameter) in &buildspec.env.parameter_store {
        if !with_secrets {
            out.withheld.push(name.clone());
            continue;
        }
        match parameter_value(store, parameter).await {
            Ok(value) => out.push_secret(false, name, value),
            Err(e) => missing.push(e),
        }
    }
    for (name, reference) in &buildspec.env.secrets_manager {
        if !with_secrets {
            out.withheld.push(name.clone());
            continue;
        }
        match secret_value(store, reference).await {
            Ok(value) => out.push_secret(false, name, value),
            Err(e) => missing.push(e),
        }
    }
    let variables = project
        .environment
        .as_ref()
        .map(|e| e.environment_variables.as_slice())
        .unwrap_or_default();
    for var in variables {
        let kind = var.variable_type.as_deref().unwrap_or("PLAINTEXT");
        if kind != "PLAINTEXT" && !with_secrets {
            out.withheld.push(var.name.clone());
            continue;
        }
        match kind {
            "PARAMETER_STORE" => match parameter_value(store, &var.value).await {
                Ok(value) => out.push_secret(true, &var.name, value),
                Err(e) => missing.push(e),
            },
            "SECRETS_MANAGER" => match SecretRef::parse(&var.value) {
                Ok(reference) => match secret_value(store, &reference).await {
                    Ok(value) => out.push_secret(true, &var.name, value),
                    Err(e) => missing.push(e),
                },
                Err(e) => missing.push(SecretError::Reference(var.name.clone(), e)),
            },
            _ => out.project.push((var.name.clone(), var.value.clone())),
        }
    }
    if missing.is_empty() { Ok(out) } else { Err(DownloadError::Secrets(missing)) }
}

async fn parameter_value(store: &dyn SecretStore, name: &str) -> Result<String, SecretError> {
    store.get_parameter(name).await.map_err(|e| match e.kind {
        PortErrorKind::NotFound => SecretError::ParameterMissing(name.to_owned()),
        _ => SecretError::ParameterUnreadable(name.to_owned(), e),
    })
}

async fn secret_value(
    store: &dyn SecretStore,
    reference: &SecretRef,
) -> Result<String, SecretError> {
    let id = &reference.secret_id;
    let text = store
        .get_secret(id, reference.version_stage.as_deref(), reference.version_id.as_deref())
        .await
        .map_err(|e| match e.kind {
            PortErrorKind::NotFound => SecretError::SecretMissing(id.clone()),
            _ => SecretError::SecretUnreadable(id.clone(), e),
        })?;
    let Some(key) = &reference.json_key else { return Ok(text) };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| SecretError::NotJson(id.clone(), key.clone()))?;
    match json.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(SecretError::NoKey(id.clone(), key.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs() {
        let r = SecretRef::parse("arn:aws:secretsmanager:us-east-1:1:secret:db-AbC:password::v1")
            .expect("valid");
        assert_eq!(r.secret_id, "arn:aws:secretsmanager:us-east-1:1:secret:db-AbC");
        assert_eq!(r.json_key.as_deref(), Some("password"));
        assert_eq!(r.version_stage, None);
        assert_eq!(r.version_id.as_deref(), Some("v1"));
        assert_eq!(SecretRef::parse("plain").expect("valid").secret_id, "plain");
    }

    #[tokio::test]
    async fn a_malformed_project_secret_reference_is_reported_by_name() {
        let spec = parse("version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n")
            .buildspec
            .expect("buildspec");
        let project: Project = serde_json::from_str(
            r#"{"name": "p", "environment": {"environmentVariables": [
                {"name": "DB", "value": "db::AWSCURRENT:v1", "type": "SECRETS_MANAGER"}]}}"#,
        )
        .expect("project");
        let store = kiln_local::FileSecretStore::parse("db=s3cret-db\n").expect("secrets");
        let error = resolve_env(&spec, &project, &store, true).await.expect_err("malformed");
        let text = error.to_string();
        assert!(text.starts_with("DB: ") && text.contains("mutually exclusive"), "{text}");
    }

    #[tokio::test]
    async fn every_secret_variable_is_named_and_no_value_reaches_debug() {
        let spec = parse(
            "version: 0.2\nenv:\n  variables:\n    PLAIN: visible\n  parameter-store:\n    TOKEN: /app/token\nphases:\n  build:\n    commands:\n      - echo hi\n",
        )
        .buildspec
        .expect("buildspec");
        let project: Project = serde_json::from_str(
            r#"{"name": "p", "environment": {"environmentVariables": [
                {"name": "DB", "value": "db", "type": "SECRETS_MANAGER"},
                {"name": "OPEN", "value": "o"}]}}"#,
        )
        .expect("project");
        let store = kiln_local::FileSecretStore::parse("/app/token=s3cret-token\ndb=s3cret-db\n")
            .expect("secrets");
        let resolved = resolve_env(&spec, &project, &store, true).await.expect("resolved");
        assert_eq!(resolved.secret_names, ["TOKEN", "DB"]);
        assert_eq!(resolved.secrets, ["s3cret-token", "s3cret-db"]);
        let debug = format!("{resolved:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("PLAIN") && debug.contains("OPEN"), "{debug}");
    }

    #[tokio::test]
    async fn a_build_without_secrets_reads_none_and_names_them() {
        let spec = parse(
            "version: 0.2\nenv:\n  parameter-store:\n    TOKEN: /app/token\nphases:\n  build:\n    commands:\n      - echo hi\n",
        )
        .buildspec
        .expect("buildspec");
        let project: Project = serde_json::from_str(
            r#"{"name": "p", "environment": {"environmentVariables": [
                {"name": "DB", "value": "db", "type": "SECRETS_MANAGER"},
                {"name": "OPEN", "value": "o"}]}}"#,
        )
        .expect("project");
        let store = kiln_local::FileSecretStore::parse("/app/token=s3cret-token\ndb=s3cret-db\n")
            .expect("secrets");
        let resolved = resolve_env(&spec, &project, &store, false).await.expect("resolved");
        assert!(resolved.secrets.is_empty());
        assert_eq!(resolved.withheld, ["TOKEN", "DB"]);
        assert_eq!(resolved.project, [("OPEN".to_owned(), "o".to_owned())]);
    }

    #[test]
    fn a_directory_or_binary_buildspec_says_so() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("buildspec.yml"))?;
        let e = load_buildspec(dir.path(), &BuildspecSource::Default).expect_err("a directory");
        assert!(
            e.to_string().ends_with("buildspec.yml is a directory, not a buildspec file"),
            "{e}"
        );
        std::fs::write(dir.path().join("b.yml"), b"version: 0.2\n\xff\n")?;
        let e =
            load_buildspec(dir.path(), &BuildspecSource::Path("b.yml".into())).expect_err("binary");
        assert!(e.to_string().ends_with("b.yml is not UTF-8 text"), "{e}");
        let e = load_buildspec(dir.path(), &BuildspecSource::Path("none.yml".into()))
            .expect_err("absent");
        assert!(
            e.to_string().starts_with("stat ")
                && e.to_string().ends_with("none.yml: no such file or directory"),
            "{e}"
        );
        Ok(())
    }
}
