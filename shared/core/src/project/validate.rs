//! Catalog validation: every problem of every project at once, with its YAML path and
//! `line:col`.
//!
//! A field kiln does not know is a warning naming its path. Fields that CodeBuild's
//! CreateProject input or real `aws codebuild batch-get-projects` output carries but kiln does
//! not use (`arn`, `badgeEnabled`, `serviceRole`, `logsConfig`, `webhook.url`, ...) are accepted
//! silently. An invalid value is an
//! error: the enumerations CodeBuild defines (artifacts `type`/`namespaceType`/`packaging`,
//! cache `type`/`modes`, environment variable `type`, source `type`), a `timeoutInMinutes`
//! that is not a whole number in 5..=2160 (the current API's range), kiln's
//! `forkPullRequests`, and filter groups: a group without an `EVENT` filter, an unknown filter
//! type or event name (with the closest event type as a "did you mean"), or a pattern that is
//! not a regular expression names the project and the group. A legacy `branchFilter` that is not a regular expression is an error too (it
//! would otherwise build every branch).
//!
//! Names that become paths and values that reach a process are checked as well: a project
//! `name` must follow CodeBuild's rule, `[A-Za-z0-9][A-Za-z0-9-_]{1,254}` (so `.`, `..`, an
//! empty name, `/` and NUL are refused: kiln keeps each project's builds under its name), and
//! an environment variable's name or value must not hold a NUL character (no process
//! environment can; every command of the build would fail to start).

use std::collections::HashSet;

use regex::Regex;

use crate::buildspec::suggest::closest;
use crate::diagnostic::{Diagnostic, child_path, index_path};
use crate::webhook::EventType;
use crate::yaml::{Node, Resolved};

use super::filter::FilterType;
use super::settings::ForkPolicy;

const PROJECT_USED: &[&str] = &[
    "name",
    "source",
    "environment",
    "artifacts",
    "secondaryArtifacts",
    "cache",
    "timeoutInMinutes",
    "webhook",
    "buildStatusConfig",
    "kiln",
];
/// Top-level fields of CreateProject's input and BatchGetProjects' `Project` that kiln reads
/// no value from (SDK 1.97 field lists; `badgeEnabled` is the input's spelling of the output's
/// `badge`).
const PROJECT_ACCEPTED: &[&str] = &[
    "arn",
    "badgeEnabled",
    "description",
    "secondarySources",
    "sourceVersion",
    "secondarySourceVersions",
    "serviceRole",
    "queuedTimeoutInMinutes",
    "encryptionKey",
    "tags",
    "created",
    "lastModified",
    "badge",
    "logsConfig",
    "fileSystemLocations",
    "buildBatchConfig",
    "concurrentBuildLimit",
    "projectVisibility",
    "publicProjectAlias",
    "resourceAccessRole",
    "vpcConfig",
    "autoRetryLimit",
];
const SOURCE_USED: &[&str] =
    &["type", "location", "buildspec", "reportBuildStatus", "buildStatusConfig"];
const SOURCE_ACCEPTED: &[&str] =
    &["gitCloneDepth", "gitSubmodulesConfig", "auth", "insecureSsl", "sourceIdentifier"];
const ENVIRONMENT_USED: &[&str] =
    &["type", "image", "computeType", "environmentVariables", "privilegedMode"];
const ENVIRONMENT_ACCEPTED: &[&str] = &[
    "certificate",
    "registryCredential",
    "imagePullCredentialsType",
    "computeConfiguration",
    "fleet",
    "dockerServer",
];
const ARTIFACTS_USED: &[&str] = &[
    "type",
    "location",
    "path",
    "namespaceType",
    "name",
    "packaging",
    "overrideArtifactName",
    "encryptionDisabled",
    "artifactIdentifier",
    "bucketOwnerAccess",
];
const CACHE_USED: &[&str] = &["type", "location", "modes", "cacheNamespace"];
const WEBHOOK_USED: &[&str] = &["filterGroups", "buildType", "branchFilter"];
const WEBHOOK_ACCEPTED: &[&str] = &[
    "url",
    "payloadUrl",
    "secret",
    "manualCreation",
    "lastModifiedSecret",
    "scopeConfiguration",
    "status",
    "statusMessage",
    "pullRequestBuildPolicy",
];
const FILTER_USED: &[&str] = &["type", "pattern", "excludeMatchedPattern"];
const STATUS_USED: &[&str] = &["context", "targetUrl"];
const KILN_USED: &[&str] = &[
    "forkPullRequests",
    "skipDraftPullRequests",
    "skipCiMarkers",
    "spot",
    "supersede",
    "publicBuilds",
];

const SOURCE_TYPES: &[&str] = &[
    "CODECOMMIT",
    "CODEPIPELINE",
    "GITHUB",
    "GITHUB_ENTERPRISE",
    "GITLAB",
    "GITLAB_SELF_MANAGED",
    "BITBUCKET",
    "S3",
    "NO_SOURCE",
];
const COMPUTE_TYPES: &[&str] = &[
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
    "BUILD_LAMBDA_1GB",
    "BUILD_LAMBDA_2GB",
    "BUILD_LAMBDA_4GB",
    "BUILD_LAMBDA_8GB",
    "BUILD_LAMBDA_10GB",
    "ATTRIBUTE_BASED_COMPUTE",
    "CUSTOM_INSTANCE_TYPE",
];
const ENVIRONMENT_TYPES: &[&str] = &[
    "LINUX_CONTAINER",
    "LINUX_GPU_CONTAINER",
    "ARM_CONTAINER",
    "WINDOWS_CONTAINER",
    "WINDOWS_SERVER_2019_CONTAINER",
    "WINDOWS_SERVER_2022_CONTAINER",
    "LINUX_LAMBDA_CONTAINER",
    "ARM_LAMBDA_CONTAINER",
    "LINUX_EC2",
    "ARM_EC2",
    "WINDOWS_EC2",
    "MAC_ARM",
];
const ARTIFACT_TYPES: &[&str] = &["CODEPIPELINE", "S3", "NO_ARTIFACTS"];
const NAMESPACE_TYPES: &[&str] = &["NONE", "BUILD_ID"];
const PACKAGINGS: &[&str] = &["NONE", "ZIP"];
const CACHE_TYPES: &[&str] = &["NO_CACHE", "S3", "LOCAL"];
const CACHE_MODES: &[&str] =
    &["LOCAL_DOCKER_LAYER_CACHE", "LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"];
const VARIABLE_TYPES: &[&str] = &["PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"];

/// GitHub's names for what CodeBuild calls otherwise, as authors write them in EVENT patterns.
const EVENT_ALIASES: &[(&str, EventType)] = &[
    ("PULL_REQUEST_OPENED", EventType::PullRequestCreated),
    ("PULL_REQUEST_SYNCHRONIZE", EventType::PullRequestUpdated),
    ("PULL_REQUEST_SYNCHRONIZED", EventType::PullRequestUpdated),
    ("PULL_REQUEST", EventType::PullRequestCreated),
    ("RELEASE", EventType::Released),
    ("RELEASE_PUBLISHED", EventType::Released),
];

/// The help for an unknown EVENT type: the closest type (`PUSHH` → `PUSH`,
/// `PULL_REQUEST_CREATE` → `PULL_REQUEST_CREATED`, GitHub's `PULL_REQUEST_OPENED` →
/// `PULL_REQUEST_CREATED`), or every type when none is close.
fn event_type_help(name: &str) -> String {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    let alias = EVENT_ALIASES.iter().find(|(a, _)| *a == upper).map(|(_, t)| t.as_str());
    match alias.or_else(|| closest(name, EventType::ALL.map(EventType::as_str))) {
        Some(close) => format!("did you mean {close:?}?"),
        None => {
            format!("event types are {}", EventType::ALL.map(EventType::as_str).join(", "))
        }
    }
}

/// The project nodes of a catalog tree with their paths: `projects[i]`, `[i]`, or the root.
pub(super) fn project_nodes(root: &Node) -> Vec<(String, &Node)> {
    if let Some(list) = root.get("projects").and_then(Node::as_sequence) {
        return list.iter().enumerate().map(|(i, n)| (index_path("projects", i), n)).collect();
    }
    if let Some(list) = root.as_sequence() {
        return list.iter().enumerate().map(|(i, n)| (index_path("", i), n)).collect();
    }
    vec![(String::new(), root)]
}

/// Whether `name` follows CodeBuild's rule for project names,
/// `[A-Za-z0-9][A-Za-z0-9\-_]{1,254}`.
pub fn is_project_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (2..=255).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Every problem of the catalog tree `root`, errors and warnings, in file order.
pub(super) fn validate(root: &Node) -> Vec<Diagnostic> {
    let mut v = Validator { out: Vec::new(), project: String::new() };
    let mut names = HashSet::new();
    for (path, node) in project_nodes(root) {
        v.project = node
            .get("name")
            .and_then(Node::as_scalar)
            .map_or_else(|| "(unnamed)".to_owned(), |s| s.text.clone());
        if let Some(name) = node.get("name").filter(|_| !names.insert(v.project.clone())) {
            let msg = format!("duplicate project name {:?}", v.project);
            v.out.push(Diagnostic::error(name.pos, child_path(&path, "name"), msg));
        }
        if let Some(name) = node.get("name").filter(|n| !n.is_null()) {
            let text = name.as_scalar().map(|s| s.text.as_str());
            if text.is_some_and(|t| !is_project_name(t)) {
                let msg = format!(
                    "project name {:?} is not valid: CodeBuild names are 2 to 255 letters, digits, '-' and '_', starting with a letter or digit",
                    v.project
                );
                v.out.push(Diagnostic::error(name.pos, child_path(&path, "name"), msg).with_help(
                    "kiln keeps each project's builds under its name; rename the project",
                ));
            }
        }
        v.project(node, &path);
    }
    v.out.sort_by_key(|d| d.position);
    v.out
}

struct Validator {
    out: Vec<Diagnostic>,
    project: String,
}

impl Validator {
    fn keys(&mut self, node: &Node, path: &str, used: &[&str], accepted: &[&str]) {
        let Some(entries) = node.as_mapping() else { return };
        for e in entries {
            let Some(key) = e.key.as_scalar().map(|s| s.text.as_str()) else { continue };
            if used.contains(&key) || accepted.contains(&key) {
                continue;
            }
            let mut d = Diagnostic::warning(
                e.key.pos,
                child_path(path, key),
                format!("project {}: unknown field {key:?} is ignored", self.project),
            );
            if let Some(close) = used.iter().find(|u| strsim::jaro_winkler(u, key) > 0.85) {
                d = d.with_help(format!("did you mean {close:?}?"));
            }
            self.out.push(d);
        }
    }

    fn error(&mut self, node: &Node, path: String, message: String) {
        self.out.push(Diagnostic::error(node.pos, path, message));
    }

    fn one_of(&mut self, parent: &Node, path: &str, key: &str, allowed: &[&str]) {
        let Some(node) = parent.get(key).filter(|n| !n.is_null()) else { return };
        let Some(s) = node.as_scalar() else { return };
        if !allowed.contains(&s.text.as_str()) {
            let msg = format!(
                "project {}: {:?} is not a valid {key}; expected one of {}",
                self.project,
                s.text,
                allowed.join(", ")
            );
            self.error(node, child_path(path, key), msg);
        }
    }

    fn project(&mut self, p: &Node, path: &str) {
        self.keys(p, path, PROJECT_USED, PROJECT_ACCEPTED);
        if let Some(src) = p.get("source") {
            let sp = child_path(path, "source");
            self.keys(src, &sp, SOURCE_USED, SOURCE_ACCEPTED);
            self.one_of(src, &sp, "type", SOURCE_TYPES);
            if let Some(bsc) = src.get("buildStatusConfig") {
                self.keys(bsc, &child_path(&sp, "buildStatusConfig"), STATUS_USED, &[]);
            }
        }
        if let Some(env) = p.get("environment") {
            let ep = child_path(path, "environment");
            self.keys(env, &ep, ENVIRONMENT_USED, ENVIRONMENT_ACCEPTED);
            self.one_of(env, &ep, "computeType", COMPUTE_TYPES);
            self.one_of(env, &ep, "type", ENVIRONMENT_TYPES);
            let vars =
                env.get("environmentVariables").and_then(Node::as_sequence).unwrap_or_default();
            for (i, var) in vars.iter().enumerate() {
                let vp = index_path(&child_path(&ep, "environmentVariables"), i);
                self.keys(var, &vp, &["name", "value", "type"], &[]);
                self.one_of(var, &vp, "type", VARIABLE_TYPES);
                for field in ["name", "value"] {
                    let Some(node) = var.get(field) else { continue };
                    if node.as_scalar().is_some_and(|s| s.text.contains('\0')) {
                        let msg = format!(
                            "project {}: the environment variable {field} contains a NUL character, which no environment can hold",
                            self.project
                        );
                        self.error(node, child_path(&vp, field), msg);
                    }
                }
            }
        }
        if let Some(a) = p.get("artifacts") {
            self.artifacts(a, &child_path(path, "artifacts"));
        }
        let secondary = p.get("secondaryArtifacts").and_then(Node::as_sequence).unwrap_or_default();
        for (i, a) in secondary.iter().enumerate() {
            self.artifacts(a, &index_path(&child_path(path, "secondaryArtifacts"), i));
        }
        if let Some(c) = p.get("cache") {
            let cp = child_path(path, "cache");
            self.keys(c, &cp, CACHE_USED, &[]);
            self.one_of(c, &cp, "type", CACHE_TYPES);
            let s3 = c
                .get("type")
                .and_then(Node::as_scalar)
                .is_some_and(|t| t.text.eq_ignore_ascii_case("S3"));
            let location = c
                .get("location")
                .and_then(Node::as_scalar)
                .map(|l| l.text.trim_matches('/').to_owned())
                .unwrap_or_default();
            if s3 && location.is_empty() {
                let msg = format!(
                    "project {}: an S3 cache needs a location (bucket or bucket/prefix)",
                    self.project
                );
                let at = c.get("location").unwrap_or(c);
                self.error(at, child_path(&cp, "location"), msg);
            }
            let modes = c.get("modes").and_then(Node::as_sequence).unwrap_or_default();
            for (i, m) in modes.iter().enumerate() {
                let Some(s) = m.as_scalar() else { continue };
                if !CACHE_MODES.contains(&s.text.as_str()) {
                    let msg = format!(
                        "project {}: {:?} is not a valid cache mode; expected one of {}",
                        self.project,
                        s.text,
                        CACHE_MODES.join(", ")
                    );
                    self.error(m, index_path(&child_path(&cp, "modes"), i), msg);
                }
            }
        }
        if let Some(t) = p.get("timeoutInMinutes") {
            if let Some(Resolved::Int(n)) = t.as_scalar().map(|s| s.resolve()) {
                if !(5..=2160).contains(&n) {
                    let msg = format!(
                        "project {}: timeoutInMinutes {n} is out of range; expected 5 to 2160",
                        self.project
                    );
                    self.error(t, child_path(path, "timeoutInMinutes"), msg);
                }
            } else {
                let msg = format!(
                    "project {}: timeoutInMinutes must be a whole number of minutes, not {}",
                    self.project,
                    t.kind_name()
                );
                self.error(t, child_path(path, "timeoutInMinutes"), msg);
            }
        }
        if let Some(bsc) = p.get("buildStatusConfig") {
            self.keys(bsc, &child_path(path, "buildStatusConfig"), STATUS_USED, &[]);
        }
        if let Some(w) = p.get("webhook") {
            self.webhook(w, &child_path(path, "webhook"));
        }
        if let Some(k) = p.get("kiln") {
            let kp = child_path(path, "kiln");
            self.keys(k, &kp, KILN_USED, &[]);
            self.one_of(k, &kp, "forkPullRequests", &ForkPolicy::NAMES);
        }
    }

    fn artifacts(&mut self, a: &Node, path: &str) {
        self.keys(a, path, ARTIFACTS_USED, &[]);
        self.one_of(a, path, "type", ARTIFACT_TYPES);
        self.one_of(a, path, "namespaceType", NAMESPACE_TYPES);
        self.one_of(a, path, "packaging", PACKAGINGS);
    }

    fn webhook(&mut self, w: &Node, path: &str) {
        self.keys(w, path, WEBHOOK_USED, WEBHOOK_ACCEPTED);
        if let Some(node) = w.get("branchFilter").filter(|n| !n.is_null()) {
            let text = node.as_scalar().map_or(String::new(), |s| s.text.clone());
            if let Err(e) = Regex::new(&text) {
                let msg = format!(
                    "project {}: branchFilter {text:?} is not a valid regular expression: {}",
                    self.project,
                    super::resolve::regex_message(&e)
                );
                self.out.push(
                    Diagnostic::error(node.pos, child_path(path, "branchFilter"), msg)
                        .with_help("an invalid branchFilter would build every branch; fix the pattern or remove it"),
                );
            }
        }
        let gp = child_path(path, "filterGroups");
        let groups = w.get("filterGroups").and_then(Node::as_sequence).unwrap_or_default();
        for (gi, group) in groups.iter().enumerate() {
            let path = index_path(&gp, gi);
            let filters = group.as_sequence().unwrap_or_default();
            let mut has_event = false;
            for (fi, f) in filters.iter().enumerate() {
                let fp = index_path(&path, fi);
                self.keys(f, &fp, FILTER_USED, &[]);
                let ty = f.get("type").and_then(Node::as_scalar).map(|s| s.text.trim());
                let Some(kind) = ty.and_then(FilterType::parse) else {
                    if let (Some(ty), Some(node)) = (ty, f.get("type")) {
                        let msg = format!(
                            "project {}, filter group {}: unknown filter type {ty:?}",
                            self.project,
                            gi + 1
                        );
                        self.error(node, child_path(&fp, "type"), msg);
                    }
                    continue;
                };
                let Some(pattern) = f.get("pattern") else { continue };
                let text = pattern.as_scalar().map_or(String::new(), |s| s.text.clone());
                let pp = child_path(&fp, "pattern");
                if kind == FilterType::Event {
                    has_event = true;
                    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        if name.parse::<EventType>().is_err() {
                            let msg = format!(
                                "project {}, filter group {}: unknown event type {name:?}",
                                self.project,
                                gi + 1
                            );
                            self.out.push(
                                Diagnostic::error(pattern.pos, pp.clone(), msg)
                                    .with_help(event_type_help(name)),
                            );
                        }
                    }
                } else if let Err(e) = Regex::new(&text) {
                    let first = super::resolve::regex_message(&e);
                    let msg = format!(
                        "project {}, filter group {}: {} pattern {text:?} is not a valid regular expression: {first}",
                        self.project,
                        gi + 1,
                        kind.as_str()
                    );
                    self.error(pattern, pp, msg);
                }
            }
            if !has_event {
                let msg = format!(
                    "project {}, filter group {} has no EVENT filter; every group needs one",
                    self.project,
                    gi + 1
                );
                self.error(group, path, msg);
            }
        }
    }
}
