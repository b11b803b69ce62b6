//! The project catalog file: one project, a list, or `{"projects": [...]}`, in YAML or JSON.

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Position};
use crate::yaml::{self, Node};

use super::model::Project;

/// Every project of a catalog file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The projects.
    pub projects: Vec<Project>,
    /// Warnings about the file (unknown fields, ...).
    pub warnings: Vec<Diagnostic>,
}

impl Catalog {
    /// The project called `name`.
    pub fn get(&self, name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.name == name)
    }
}

/// Why a catalog could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The text is not YAML or JSON.
    #[error("invalid catalog: {0}")]
    Syntax(Diagnostic),
    /// The catalog breaks CodeBuild's or kiln's rules: every error (and warning) found.
    #[error("invalid catalog: {}{}", first_error(.0), more(.0))]
    Invalid(Vec<Diagnostic>),
    /// A field has the wrong type or value.
    #[error("invalid catalog: {position}: {path}: {message}")]
    Field {
        /// Where the field is (the nearest node found along `path`; 1:1 when none is).
        position: Position,
        /// The field path, such as `projects[0].artifacts.packaging`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl CatalogError {
    /// Every problem as a diagnostic (errors and the warnings found with them), for printing
    /// with [`Diagnostic::render`] against the catalog text.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Self::Syntax(d) => vec![d.clone()],
            Self::Invalid(all) => all.clone(),
            Self::Field { position, path, message } => {
                vec![Diagnostic::error(*position, path.clone(), message.clone())]
            }
        }
    }
}

fn first_error(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .find(|d| d.is_error())
        .map_or_else(String::new, |d| format!("{}: {}: {}", d.position, d.path, d.message))
}

fn more(diags: &[Diagnostic]) -> String {
    match diags.iter().filter(|d| d.is_error()).count() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CatalogFile {
    Wrapped { projects: Vec<Project> },
    List(Vec<Project>),
    One(Box<Project>),
}

/// Reads a catalog text (YAML or JSON) and validates every project (see
/// [`super::validate`]): unknown fields become warnings, invalid values errors.
///
/// # Errors
/// [`CatalogError`] naming the position of a syntax error, the path of a field of the wrong
/// type, or every invalid value at once.
pub fn load_catalog(text: &str) -> Result<Catalog, CatalogError> {
    let mut doc = yaml::parse(text).map_err(CatalogError::Syntax)?;
    if let Some(root) = &doc.root {
        let found = super::validate::validate(root);
        if found.iter().any(Diagnostic::is_error) {
            return Err(CatalogError::Invalid(found));
        }
        doc.warnings.extend(found);
    }
    let root = doc.root.as_ref();
    let json = root.map(Node::to_json).unwrap_or(serde_json::Value::Null);
    let file: CatalogFile = match &json {
        serde_json::Value::Object(map) if map.contains_key("projects") => {
            let projects = json.get("projects").cloned().unwrap_or_default();
            let projects: Vec<Project> = deserialize_at(projects, "projects", root)?;
            CatalogFile::Wrapped { projects }
        }
        serde_json::Value::Array(_) => CatalogFile::List(deserialize_at(json, "", root)?),
        _ => CatalogFile::One(Box::new(deserialize_at(json, "", root)?)),
    };
    let projects = match file {
        CatalogFile::Wrapped { projects } | CatalogFile::List(projects) => projects,
        CatalogFile::One(p) => vec![*p],
    };
    Ok(Catalog { projects, warnings: doc.warnings })
}

fn deserialize_at<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
    root: Option<&Node>,
) -> Result<T, CatalogError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner == ".") {
            (true, _) => inner,
            (false, true) => prefix.to_owned(),
            (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
            (false, false) => format!("{prefix}.{inner}"),
        };
        let position = root.map_or_else(Position::default, |r| position_of(r, &path));
        CatalogError::Field { position, path, message: e.into_inner().to_string() }
    })
}

/// Where the node at `path` (`projects[0].environment.name`) starts: the deepest node found
/// along the path, since a missing field is reported at the mapping that lacks it.
fn position_of(root: &Node, path: &str) -> Position {
    let mut node = root;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (key, indexes) = segment.split_once('[').map_or((segment, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            match node.get(key) {
                Some(child) => node = child,
                None => return node.pos,
            }
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let child = index
                .trim_end_matches(']')
                .parse::<usize>()
                .ok()
                .and_then(|i| node.as_sequence().and_then(|items| items.get(i)));
            match child {
                Some(child) => node = child,
                None => return node.pos,
            }
        }
    }
    node.pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_project_a_list_or_wrapped() {
        let one = load_catalog("name: app\n").expect("one");
        assert_eq!(one.projects.len(), 1);
        let list = load_catalog("- name: app\n- name: web\n").expect("list");
        assert_eq!(list.projects.len(), 2);
        let wrapped = load_catalog(r#"{"projects": [{"name": "app", "timeoutInMinutes": 5}]}"#)
            .expect("wrapped");
        assert_eq!(wrapped.get("app").and_then(|p| p.timeout_in_minutes), Some(5));
    }

    fn errors_of(text: &str) -> Vec<String> {
        match load_catalog(text) {
            Err(CatalogError::Invalid(d)) => d
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{}: {}: {}", d.position, d.path, d.message))
                .collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn invalid_values_name_their_path_and_position() {
        let text = "projects:\n  - name: app\n    artifacts: {type: S3, packaging: RAR}\n    timeoutInMinutes: 3\n    cache: {type: DISK}\n    environment:\n      environmentVariables:\n        - {name: X, value: y, type: PLAIN}\n    kiln: {forkPullRequests: sometimes}\n";
        insta::assert_yaml_snapshot!(errors_of(text));
    }

    #[test]
    fn settings_a_build_would_fail_on_fail_at_load() {
        let text = "- name: app\n  environment: {computeType: BUILD_GENERAL2_HUGE, type: LINUX}\n  cache: {type: S3}\n- name: other\n  cache: {type: S3, location: '/'}\n";
        assert_eq!(
            errors_of(text),
            [
                "2:30: [0].environment.computeType: project app: \"BUILD_GENERAL2_HUGE\" is not a valid computeType; expected one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE, BUILD_LAMBDA_1GB, BUILD_LAMBDA_2GB, BUILD_LAMBDA_4GB, BUILD_LAMBDA_8GB, BUILD_LAMBDA_10GB, ATTRIBUTE_BASED_COMPUTE, CUSTOM_INSTANCE_TYPE",
                "2:57: [0].environment.type: project app: \"LINUX\" is not a valid type; expected one of LINUX_CONTAINER, LINUX_GPU_CONTAINER, ARM_CONTAINER, WINDOWS_CONTAINER, WINDOWS_SERVER_2019_CONTAINER, WINDOWS_SERVER_2022_CONTAINER, LINUX_LAMBDA_CONTAINER, ARM_LAMBDA_CONTAINER, LINUX_EC2, ARM_EC2, WINDOWS_EC2, MAC_ARM",
                "3:10: [0].cache.location: project app: an S3 cache needs a location (bucket or bucket/prefix)",
                "5:31: [1].cache.location: project other: an S3 cache needs a location (bucket or bucket/prefix)",
            ]
        );
    }

    #[test]
    fn filter_group_errors_name_project_and_group() {
        let text = r#"
- name: app
  webhook:
    filterGroups:
      - - {type: EVENT, pattern: "PUSH, PULL_REQUEST_OPENED"}
      - - {type: HEAD_REF, pattern: "^refs/heads/main$"}
      - - {type: EVENT, pattern: PUSH}
        - {type: FILE_PATH, pattern: "src/(["}
        - {type: BRANCH, pattern: x}
"#;
        insta::assert_yaml_snapshot!(errors_of(text));
    }

    #[test]
    fn unknown_fields_warn_known_codebuild_fields_do_not() {
        let text = "name: app\narn: arn:aws:codebuild:us-east-1:1:project/app\nserviceRole: r\ntimeoutInMinute: 60\nkiln: {forkPRs: never}\n";
        let cat = load_catalog(text).expect("valid");
        let w: Vec<String> =
            cat.warnings.iter().map(|d| format!("{}: {}", d.path, d.message)).collect();
        assert_eq!(
            w,
            [
                "timeoutInMinute: project app: unknown field \"timeoutInMinute\" is ignored",
                "kiln.forkPRs: project app: unknown field \"forkPRs\" is ignored",
            ]
        );
        assert_eq!(cat.warnings[0].help.as_deref(), Some("did you mean \"timeoutInMinutes\"?"));
    }

    #[test]
    fn duplicate_names_are_errors() {
        assert_eq!(errors_of("- name: app\n- name: app\n").len(), 1);
    }

    #[test]
    fn project_names_follow_codebuild_rule() {
        let long = "n".repeat(256);
        let text = format!(
            "- name: ..\n- name: .\n- name: ''\n- name: a/b\n- name: \"a\\0b\"\n- name: x\n- name: -lead\n- name: {long}\n- name: ok-name_2\n- name: {}\n",
            "m".repeat(255)
        );
        let errors = errors_of(&text);
        let lines: Vec<&str> = errors.iter().map(|e| e.split(": ").next().unwrap_or("")).collect();
        assert_eq!(lines, ["1:9", "2:9", "3:9", "4:9", "5:9", "6:9", "7:9", "8:9"], "{errors:#?}");
        assert!(errors[0].contains("project name \"..\" is not valid"), "{}", errors[0]);
        assert!(is_project_name_ok("ab") && is_project_name_ok("A1-b_c"));
    }

    fn is_project_name_ok(name: &str) -> bool {
        super::super::validate::is_project_name(name)
    }

    #[test]
    fn an_invalid_branch_filter_is_an_error_at_its_line() {
        let text = "- name: app\n  webhook:\n    branchFilter: \"^(main\"\n- name: web\n  webhook:\n    branchFilter: \"^release/.*$\"\n";
        insta::assert_yaml_snapshot!(errors_of(text));
    }

    #[test]
    fn nul_in_an_environment_variable_is_an_error() {
        let text = "name: app\nenvironment:\n  environmentVariables:\n    - {name: A, value: \"x\\0y\"}\n    - {name: \"B\\0\", value: ok}\n    - {name: C, value: fine}\n";
        assert_eq!(
            errors_of(text),
            [
                "4:24: environment.environmentVariables[0].value: project app: the environment variable value contains a NUL character, which no environment can hold",
                "5:14: environment.environmentVariables[1].name: project app: the environment variable name contains a NUL character, which no environment can hold",
            ]
        );
    }

    #[test]
    fn bad_field_names_its_path() {
        let err = load_catalog("projects:\n  - name: app\n    timeoutInMinutes: soon\n")
            .expect_err("bad type");
        assert!(err.to_string().contains("3:23: projects[0].timeoutInMinutes"), "{err}");
    }

    #[test]
    fn wrong_type_is_placed_at_its_line_and_column() {
        let text = "projects:\n  - name: app\n    environment:\n      environmentVariables:\n        - {name: A, value: x}\n        - name: B\n          value: [1]\n";
        let err = load_catalog(text).expect_err("bad type");
        let d = &err.diagnostics()[0];
        assert_eq!(d.path, "projects[0].environment.environmentVariables[1].value");
        assert_eq!(d.position, Position::new(7, 18));
        let one = load_catalog("name: app\ntimeoutInMinutes: soon\n").expect_err("bad type");
        assert_eq!(one.diagnostics()[0].position, Position::new(2, 19));
    }
}
