//! The project catalog file: one project, a list, or `{"projects": [...]}`, in YAML or JSON.

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
    /// The text is not YAML or JSON (the diagnostic names which).
    #[error("invalid catalog: {0}")]
    Syntax(Diagnostic),
    /// The catalog breaks CodeBuild's or kiln's rules, or a field has the wrong type: every
    /// error found (and the warnings found with them), in file order.
    #[error("invalid catalog: {}{}", first_error(.0), more(.0))]
    Invalid(Vec<Diagnostic>),
}

impl CatalogError {
    /// Every problem as a diagnostic (errors and the warnings found with them), for printing
    /// with [`Diagnostic::render_with_path`] against the catalog text.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Self::Syntax(d) => vec![d.clone()],
            Self::Invalid(all) => all.clone(),
        }
    }
}

fn first_error(diags: &[Diagnostic]) -> String {
    diags.iter().find(|d| d.is_error()).map_or_else(String::new, |d| match d.path.as_str() {
        "" => format!("{}: {}", d.position, d.message),
        path => format!("{}: {path}: {}", d.position, d.message),
    })
}

fn more(diags: &[Diagnostic]) -> String {
    match diags.iter().filter(|d| d.is_error()).count() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    }
}

/// Reads a catalog text (YAML or JSON) and validates every project (see
/// [`super::validate`]): unknown fields become warnings, invalid values errors.
///
/// Every problem is found at once: the rules of [`super::validate`] over the whole file, and a
/// field of the wrong type in each project (the first one serde meets in that project, unless
/// the rules already reported that field).
///
/// # Errors
/// [`CatalogError`] naming the position of a syntax error, or every invalid value and field
/// of the wrong type at once, each with its `line:col` and path.
pub fn load_catalog(text: &str) -> Result<Catalog, CatalogError> {
    let mut doc = yaml::parse(text).map_err(CatalogError::Syntax)?;
    let Some(root) = doc.root.as_ref() else {
        let empty = Diagnostic::error(Position::new(1, 1), "", "the catalog is empty")
            .with_help("a catalog is one project, a list of projects, or `projects:` with a list");
        return Err(CatalogError::Invalid(vec![empty]));
    };
    let mut found = super::validate::validate(root);
    let reported: Vec<String> =
        found.iter().filter(|d| d.is_error()).map(|d| d.path.clone()).collect();
    let (projects, wrong_types) = read_projects(root, &reported);
    found.extend(wrong_types);
    found.sort_by_key(|d| d.position);
    if found.iter().any(Diagnostic::is_error) {
        return Err(CatalogError::Invalid(found));
    }
    doc.warnings.extend(found);
    Ok(Catalog { projects, warnings: doc.warnings })
}

/// Whether a text given as a buildspec looks like a project catalog instead: a mapping with
/// `projects`, or with `name`, and with neither `version` nor `phases` (which every buildspec
/// has), or a list whose first item is a mapping with `name`.
pub fn looks_like_catalog(text: &str) -> bool {
    let Ok(doc) = yaml::parse(text) else { return false };
    let Some(root) = doc.root else { return false };
    if let Some(items) = root.as_sequence() {
        return items.first().is_some_and(|first| first.get("name").is_some());
    }
    let buildspec = root.get("version").is_some() || root.get("phases").is_some();
    !buildspec && (root.get("projects").is_some() || root.get("name").is_some())
}

/// Every project of the tree, and a diagnostic for every field of the wrong type that the
/// rules (`reported`: the paths of their errors) did not already report.
fn read_projects(root: &Node, reported: &[String]) -> (Vec<Project>, Vec<Diagnostic>) {
    if let Some(list) = root.get("projects").filter(|l| l.as_sequence().is_none()) {
        let msg = format!("expected a list of projects, found {}", list.kind_name());
        return (Vec::new(), vec![Diagnostic::error(list.pos, "projects", msg)]);
    }
    let mut projects = Vec::new();
    let mut wrong = Vec::new();
    for (path, node) in super::validate::project_nodes(root) {
        match read_project(node, &path, reported) {
            Ok(p) => projects.push(p),
            Err(found) => wrong.extend(found),
        }
    }
    (projects, wrong)
}

/// The most fields of the wrong type looked for in one project.
const MAX_WRONG_TYPES: usize = 64;

/// `node` read as a project; otherwise every field of the wrong type in it that the rules did
/// not report, each at its position with its path under `prefix`.
///
/// serde stops at the first field it cannot read, and which one is first depends on the
/// order of the map. So each field found (and each one the rules reported) is set to null
/// and the project read again, until it reads; a required field that cannot be null is
/// passed over by setting what holds it to null instead. The errors then do not depend on
/// the order of the keys.
fn read_project(
    node: &Node,
    prefix: &str,
    reported: &[String],
) -> Result<Project, Vec<Diagnostic>> {
    let full = |inner: &str| match (prefix.is_empty(), inner.is_empty()) {
        (_, true) => prefix.to_owned(),
        (true, false) => inner.to_owned(),
        (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
        (false, false) => format!("{prefix}.{inner}"),
    };
    let mut value = node.to_json();
    let mut seen: Vec<String> = Vec::new();
    for path in reported {
        let inner = match path.strip_prefix(prefix) {
            Some(rest) if prefix.is_empty() => rest,
            Some(rest) if rest.starts_with('.') => &rest[1..],
            Some(rest) if rest.starts_with('[') || rest.is_empty() => rest,
            _ => continue,
        };
        if !inner.is_empty() && null_at(&mut value, inner) {
            seen.push(path.clone());
        }
    }
    let mut found = Vec::new();
    for _ in 0..MAX_WRONG_TYPES {
        let e = match serde_path_to_error::deserialize::<_, Project>(value.clone()) {
            Ok(project) if found.is_empty() => return Ok(project),
            Ok(_) => break,
            Err(e) => e,
        };
        let inner = e.path().to_string();
        let inner = if inner == "." { String::new() } else { inner };
        let path = full(&inner);
        if seen.contains(&path) {
            // A required field set to null: pass over what holds it instead.
            match parent(&inner) {
                Some(up) if null_at(&mut value, up) => {
                    seen.push(full(up));
                    continue;
                }
                _ => break,
            }
        }
        let message = in_catalog_words(&e.into_inner().to_string());
        found.push(Diagnostic::error(position_of(node, &inner), path.clone(), message));
        seen.push(path);
        if inner.is_empty() || !null_at(&mut value, &inner) {
            break;
        }
    }
    // Empty when the only fields in the way are required ones the rules reported.
    Err(found)
}

/// The path of what holds the value at `path` (`a.b[1]` → `a.b`), if anything does.
fn parent(path: &str) -> Option<&str> {
    path.rfind(['.', '[']).filter(|&at| at > 0).map(|at| &path[..at])
}

/// Sets the value at `path` (`environment.environmentVariables[1].value`) to null; whether
/// there was one.
fn null_at(value: &mut serde_json::Value, path: &str) -> bool {
    let mut at = value;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (key, indexes) = segment.split_once('[').map_or((segment, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            match at.get_mut(key) {
                Some(child) => at = child,
                None => return false,
            }
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let child =
                index.trim_end_matches(']').parse::<usize>().ok().and_then(|i| at.get_mut(i));
            match child {
                Some(child) => at = child,
                None => return false,
            }
        }
    }
    *at = serde_json::Value::Null;
    true
}

/// serde's message in the words of a catalog rather than of Rust: `expected struct
/// ProjectCache` → `expected a mapping`, `expected u32` → `expected a whole number`,
/// `sequence` → `list`, `map` → `mapping`.
fn in_catalog_words(message: &str) -> String {
    let mut out = message.replace("invalid type: sequence", "invalid type: list");
    out = out.replace("invalid type: map", "invalid type: mapping");
    if let Some(at) = out.find("expected struct ") {
        let rest = &out[at + "expected struct ".len()..];
        let end = rest.find(|c: char| !c.is_alphanumeric()).unwrap_or(rest.len());
        out = format!("{}expected a mapping{}", &out[..at], &rest[end..]);
    }
    for (rust, words) in [
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected a sequence", "expected a list"),
    ] {
        out = out.replace(rust, words);
    }
    out
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

    #[test]
    fn every_field_of_the_wrong_type_is_reported_at_once() {
        let text = "projects:\n  - name: app\n    timeoutInMinutes: soon\n    environment: {privilegedMode: maybe, image: [x]}\n    secondaryArtifacts: [{type: S3, encryptionDisabled: 3}, {overrideArtifactName: no-thanks}]\n  - name: web\n    source: {gitCloneDepth: deep}\n  - name: api\n    webhook: {filterGroups: [[{type: EVENT, pattern: PUSHH}]]}\n    cache: S3\n";
        insta::assert_yaml_snapshot!(errors_of(text));
    }

    #[test]
    fn the_errors_found_do_not_depend_on_the_order_of_the_keys() {
        let fields = [
            "webhook: {filterGroups: [[{type: EVENT, pattern: PUSHH}]]}",
            "cache: S3",
            "timeoutInMinutes: soon",
            "environment: {privilegedMode: maybe}",
            "name: app",
        ];
        let forward = format!("{}\n", fields.join("\n"));
        let backward: Vec<&str> = fields.iter().rev().copied().collect();
        let backward = format!("{}\n", backward.join("\n"));
        let paths = |text: &str| {
            let mut p: Vec<String> = errors_of(text)
                .iter()
                .map(|e| e.split(": ").nth(1).unwrap_or("").to_owned())
                .collect();
            p.sort();
            p
        };
        assert_eq!(
            paths(&forward),
            [
                "cache",
                "environment.privilegedMode",
                "timeoutInMinutes",
                "webhook.filterGroups[0][0].pattern"
            ]
        );
        assert_eq!(paths(&forward), paths(&backward));
        assert_eq!(parent("a.b[1]"), Some("a.b"));
        assert_eq!(parent("a.b"), Some("a"));
        assert_eq!(parent("a"), None);
    }

    #[test]
    fn serde_messages_use_the_words_of_a_catalog() {
        assert_eq!(
            in_catalog_words("invalid type: string \"S3\", expected struct ProjectCache"),
            "invalid type: string \"S3\", expected a mapping"
        );
        assert_eq!(
            in_catalog_words("invalid type: sequence, expected u32"),
            "invalid type: list, expected a whole number"
        );
        assert_eq!(in_catalog_words("missing field `name`"), "missing field `name`");
    }

    #[test]
    fn every_codebuild_project_field_is_accepted_silently() {
        // CreateProject's input and BatchGetProjects' Project, as aws-sdk-codebuild 1.97 has them.
        let create = [
            "description",
            "source",
            "secondarySources",
            "sourceVersion",
            "secondarySourceVersions",
            "artifacts",
            "secondaryArtifacts",
            "cache",
            "environment",
            "serviceRole",
            "timeoutInMinutes",
            "queuedTimeoutInMinutes",
            "encryptionKey",
            "tags",
            "vpcConfig",
            "badgeEnabled",
            "logsConfig",
            "fileSystemLocations",
            "buildBatchConfig",
            "concurrentBuildLimit",
            "autoRetryLimit",
        ];
        let output = [
            "arn",
            "created",
            "lastModified",
            "webhook",
            "badge",
            "projectVisibility",
            "publicProjectAlias",
            "resourceAccessRole",
        ];
        let mut text = String::from("name: app\n");
        for field in create.iter().chain(&output) {
            let value = match *field {
                "timeoutInMinutes" => "60",
                "source" | "artifacts" | "cache" | "environment" | "webhook" => "{}",
                "secondaryArtifacts" => "[]",
                _ => "x",
            };
            text.push_str(&format!("{field}: {value}\n"));
        }
        let cat = load_catalog(&text).expect("valid");
        let w: Vec<String> = cat.warnings.iter().map(|d| d.path.clone()).collect();
        assert!(w.is_empty(), "flagged as unknown: {w:?}");
    }

    #[test]
    fn unknown_event_types_suggest_the_closest() {
        let text = "- name: app\n  webhook:\n    filterGroups:\n      - - {type: EVENT, pattern: \"PUSHH, PULL_REQUEST_CREATE\"}\n      - - {type: EVENT, pattern: PULL_REQUEST_OPENED}\n      - - {type: EVENT, pattern: DEPLOYMENT}\n";
        let Err(CatalogError::Invalid(d)) = load_catalog(text) else { panic!("invalid") };
        let shown: Vec<String> = d
            .iter()
            .map(|d| {
                format!(
                    "{}: {}: {} ({})",
                    d.position,
                    d.path,
                    d.message,
                    d.help.as_deref().unwrap_or("-")
                )
            })
            .collect();
        insta::assert_yaml_snapshot!(shown);
    }

    #[test]
    fn json_catalog_errors_are_called_json() {
        let text =
            "{\n  \"projects\": [\n    {\"name\": \"app\"}\n    {\"name\": \"web\"}\n  ]\n}\n";
        let err = load_catalog(text).expect_err("a missing comma");
        assert_eq!(
            err.to_string(),
            "invalid catalog: 4:5: error: invalid JSON: expected `,` or `]`"
        );
        let typed =
            load_catalog("{\"name\": \"app\", \"timeoutInMinutes\": \"soon\"}").expect_err("type");
        assert!(!typed.to_string().contains("YAML"), "{typed}");
        let yaml = load_catalog("name: app\n  bad: indent\n").expect_err("yaml");
        assert!(yaml.to_string().contains("invalid YAML"), "{yaml}");
    }

    #[test]
    fn an_empty_catalog_or_a_projects_key_without_a_list_is_an_error() {
        let err = load_catalog("# nothing\n").expect_err("empty");
        assert_eq!(err.to_string(), "invalid catalog: 1:1: the catalog is empty");
        let err = load_catalog("projects: app\n").expect_err("not a list");
        assert_eq!(
            err.to_string(),
            "invalid catalog: 1:11: projects: expected a list of projects, found a string"
        );
    }

    #[test]
    fn catalogs_given_as_buildspecs_are_recognised() {
        assert!(looks_like_catalog("projects:\n  - name: app\n"));
        assert!(looks_like_catalog("name: app\nsource: {type: GITHUB}\n"));
        assert!(looks_like_catalog("- name: app\n"));
        assert!(looks_like_catalog("{\"projects\": []}"));
        assert!(!looks_like_catalog("version: 0.2\nphases: {}\n"));
        assert!(!looks_like_catalog("version: 0.2\nname: x\n"));
        assert!(!looks_like_catalog("phases: {}\nprojects: x\n"));
        assert!(!looks_like_catalog("- make\n"));
        assert!(!looks_like_catalog("a: b: c\n"));
    }
}
