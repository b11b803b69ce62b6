//! DOWNLOAD_SOURCE: finding and reading the buildspec, resolving parameter-store and
//! secrets-manager values.
//!
//! Messages follow CodeBuild's (spec §1.1, §1.6): a missing default buildspec is
//! `YAML file does not exist`; a missing custom path is
//! `stat <absolute path>: no such file or directory`; an invalid buildspec gives the parser's
//! `file:line:col` diagnostics. Missing secrets fail the phase with `CLIENT_ERROR` [INF: the
//! status code is undocumented] and a message naming every missing one:
//! `Parameter does not exist: <name>`, `Secret does not exist: <id>`.

use std::path::Path;

use kiln_core::build::PhaseContext;
use kiln_core::buildspec::{Buildspec, SecretRef, parse};
use kiln_core::ports::{PortErrorKind, SecretStore};
use kiln_core::project::Project;

/// Where the buildspec comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildspecSource {
    /// `buildspec.yml` at the source root.
    Default,
    /// A path relative to the source root.
    Path(String),
    /// The whole buildspec text.
    Inline(String),
}

impl BuildspecSource {
    /// The source for a project's `source.buildspec` setting: a YAML mapping containing a
    /// `version:` key is an inline buildspec [INF, spec §1.1], anything else a path.
    pub fn from_setting(setting: Option<&str>) -> Self {
        match setting.map(str::trim) {
            None | Some("") => Self::Default,
            Some(text) if text.lines().any(|l| l.trim_start().starts_with("version:")) => {
                Self::Inline(text.to_owned())
            }
            Some(path) => Self::Path(path.to_owned()),
        }
    }
}

/// Why DOWNLOAD_SOURCE failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The buildspec file is absent or unreadable.
    #[error("{0}")]
    Missing(String),
    /// The buildspec is invalid: the diagnostics' headlines.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// Secrets could not be resolved.
    #[error("{}", .0.join("; "))]
    Secrets(Vec<String>),
    /// `run-as` cannot be honoured.
    #[error("{0}")]
    RunAs(String),
    /// The shell cannot start (a variable no process can be given).
    #[error(transparent)]
    Shell(#[from] crate::shell::ShellError),
}

impl DownloadError {
    /// The phase context CodeBuild would show.
    pub fn context(&self) -> PhaseContext {
        match self {
            Self::Missing(_) | Self::Invalid(_) => PhaseContext::yaml(self.to_string()),
            Self::Secrets(_) | Self::RunAs(_) | Self::Shell(_) => {
                PhaseContext::new("CLIENT_ERROR", self.to_string())
            }
        }
    }
}

/// A buildspec that was read, with the headlines of its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The buildspec.
    pub buildspec: Buildspec,
    /// `file:line:col: warning: message` for each warning.
    pub warnings: Vec<String>,
}

/// Reads and parses the buildspec.
pub fn load_buildspec(src_dir: &Path, source: &BuildspecSource) -> Result<Loaded, DownloadError> {
    let (file, text) = match source {
        BuildspecSource::Inline(text) => ("buildspec".to_owned(), text.clone()),
        BuildspecSource::Default => {
            let path = src_dir.join("buildspec.yml");
            let text = std::fs::read_to_string(&path)
                .map_err(|_| DownloadError::Missing("YAML file does not exist".into()))?;
            ("buildspec.yml".to_owned(), text)
        }
        BuildspecSource::Path(rel) => {
            let path = src_dir.join(rel);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                    _ => e.to_string(),
                };
                DownloadError::Missing(format!("stat {}: {reason}", path.display()))
            })?;
            (rel.clone(), text)
        }
    };
    let parsed = parse(&text);
    let warnings =
        parsed.diagnostics.iter().filter(|d| !d.is_error()).map(|d| d.headline(&file)).collect();
    match parsed.buildspec {
        Some(buildspec) => Ok(Loaded { buildspec, warnings }),
        None => Err(DownloadError::Invalid(parsed.errors().map(|d| d.headline(&file)).collect())),
    }
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

/// Resolves the buildspec's and the project's variables through `store`.
pub async fn resolve_env(
    buildspec: &Buildspec,
    project: &Project,
    store: &dyn SecretStore,
) -> Result<ResolvedEnv, DownloadError> {
    let mut out =
        ResolvedEnv { buildspec: buildspec.env.variables.clone(), ..ResolvedEnv::default() };
    let mut missing = Vec::new();
    for (name, parameter) in &buildspec.env.parameter_store {
        match parameter_value(store, parameter).await {
            Ok(value) => out.push_secret(false, name, value),
            Err(message) => missing.push(message),
        }
    }
    for (name, reference) in &buildspec.env.secrets_manager {
        match secret_value(store, reference).await {
            Ok(value) => out.push_secret(false, name, value),
            Err(message) => missing.push(message),
        }
    }
    let variables = project
        .environment
        .as_ref()
        .map(|e| e.environment_variables.as_slice())
        .unwrap_or_default();
    for var in variables {
        match var.variable_type.as_deref().unwrap_or("PLAINTEXT") {
            "PARAMETER_STORE" => match parameter_value(store, &var.value).await {
                Ok(value) => out.push_secret(true, &var.name, value),
                Err(message) => missing.push(message),
            },
            "SECRETS_MANAGER" => match SecretRef::parse(&var.value) {
                Ok(reference) => match secret_value(store, &reference).await {
                    Ok(value) => out.push_secret(true, &var.name, value),
                    Err(message) => missing.push(message),
                },
                Err(e) => missing.push(format!("{}: {e}", var.name)),
            },
            _ => out.project.push((var.name.clone(), var.value.clone())),
        }
    }
    if missing.is_empty() { Ok(out) } else { Err(DownloadError::Secrets(missing)) }
}

async fn parameter_value(store: &dyn SecretStore, name: &str) -> Result<String, String> {
    store.get_parameter(name).await.map_err(|e| match e.kind {
        PortErrorKind::NotFound => format!("Parameter does not exist: {name}"),
        _ => format!("Parameter could not be read: {name}"),
    })
}

async fn secret_value(store: &dyn SecretStore, reference: &SecretRef) -> Result<String, String> {
    let id = &reference.secret_id;
    let text = store
        .get_secret(id, reference.version_stage.as_deref(), reference.version_id.as_deref())
        .await
        .map_err(|e| match e.kind {
            PortErrorKind::NotFound => format!("Secret does not exist: {id}"),
            _ => format!("Secret could not be read: {id}"),
        })?;
    let Some(key) = &reference.json_key else { return Ok(text) };
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| format!("Secret {id} is not JSON, cannot read key {key}"))?;
    match json.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(format!("Secret {id} has no key {key}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_or_path() {
        assert_eq!(BuildspecSource::from_setting(None), BuildspecSource::Default);
        assert_eq!(
            BuildspecSource::from_setting(Some("ci/b.yml")),
            BuildspecSource::Path("ci/b.yml".into())
        );
        assert!(matches!(
            BuildspecSource::from_setting(Some("version: 0.2\nphases: {}\n")),
            BuildspecSource::Inline(_)
        ));
    }

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
        let error = resolve_env(&spec, &project, &store).await.expect_err("malformed");
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
        let resolved = resolve_env(&spec, &project, &store).await.expect("resolved");
        assert_eq!(resolved.secret_names, ["TOKEN", "DB"]);
        assert_eq!(resolved.secrets, ["s3cret-token", "s3cret-db"]);
        let debug = format!("{resolved:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("PLAIN") && debug.contains("OPEN"), "{debug}");
    }
}
