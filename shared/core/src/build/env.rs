//! The build's environment: built-in `CODEBUILD_*` variables, the project's and the
//! buildspec's variables, start-build overrides, in CodeBuild's order of precedence.
//!
//! Precedence, lowest first (spec §1.3, §3): the base environment (the image's, or the user's
//! for a local run), the buildspec's `env` (variables and resolved secrets), the project's
//! `environmentVariables`, the start-build overrides (`kiln run --env`). Built-in
//! `CODEBUILD_*` variables always win: a user variable whose name starts with `CODEBUILD_` is
//! ignored with a warning [INF, spec recommendation]. `AWS_REGION`, `AWS_DEFAULT_REGION` and
//! `HOME` are set above the base environment and below user variables. Values are literal:
//! `$HOME/x` stays `$HOME/x`.

use std::collections::BTreeMap;

use super::identity::BuildIdentity;

/// Which `HOME` commands see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HomeMode {
    /// Keep the base environment's `HOME` (a local run keeps the user's).
    Keep,
    /// `/root`, as in CodeBuild's containers (the agent in a container).
    Root,
}

/// Everything the environment is made of.
#[derive(Debug, Clone)]
pub struct EnvInputs<'a> {
    /// The lowest layer: the image's environment, or the user's for a local run.
    pub base: Vec<(String, String)>,
    /// Who the build is.
    pub identity: &'a BuildIdentity,
    /// `CODEBUILD_START_TIME`, epoch milliseconds.
    pub start_ms: i64,
    /// `CODEBUILD_SRC_DIR`.
    pub src_dir: String,
    /// `CODEBUILD_SOURCE_VERSION`, when known.
    pub source_version: Option<String>,
    /// `CODEBUILD_RESOLVED_SOURCE_VERSION`, when the source is a git commit.
    pub resolved_source_version: Option<String>,
    /// `CODEBUILD_INITIATOR`.
    pub initiator: String,
    /// `CODEBUILD_BUILD_IMAGE`.
    pub image: String,
    /// Which `HOME`.
    pub home: HomeMode,
    /// The buildspec's `env.variables`, then its resolved `parameter-store` and
    /// `secrets-manager` values.
    pub buildspec: Vec<(String, String)>,
    /// The project's `environmentVariables`, resolved.
    pub project: Vec<(String, String)>,
    /// Start-build overrides.
    pub overrides: Vec<(String, String)>,
    /// More built-in variables (`CODEBUILD_WEBHOOK_*`), set like the other built-ins.
    pub builtins: Vec<(String, String)>,
}

/// A variable that was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvWarning {
    /// The variable's name.
    pub name: String,
    /// Why, as a log message.
    pub message: String,
}

/// The build's initial environment, sorted by name, and the warnings about ignored variables.
/// `CODEBUILD_BUILD_SUCCEEDING` is `1`; the agent updates it as phases fail.
pub fn assemble_env(inputs: &EnvInputs<'_>) -> (Vec<(String, String)>, Vec<EnvWarning>) {
    let mut env: BTreeMap<String, String> = inputs.base.iter().cloned().collect();
    let region = inputs.identity.region.clone();
    env.insert("AWS_REGION".into(), region.clone());
    env.insert("AWS_DEFAULT_REGION".into(), region);
    if inputs.home == HomeMode::Root {
        env.insert("HOME".into(), "/root".into());
    }
    let mut warnings = Vec::new();
    for (layer, vars) in [
        ("buildspec", &inputs.buildspec),
        ("project", &inputs.project),
        ("start-build override", &inputs.overrides),
    ] {
        for (name, value) in vars {
            if name.starts_with("CODEBUILD_") {
                warnings.push(EnvWarning {
                    name: name.clone(),
                    message: format!(
                        "Ignoring {layer} environment variable {name}: names starting with CODEBUILD_ are reserved"
                    ),
                });
                continue;
            }
            env.insert(name.clone(), value.clone());
        }
    }
    let id = inputs.identity;
    let builtins = [
        ("CODEBUILD_BUILD_ID", id.id()),
        ("CODEBUILD_BUILD_ARN", id.arn()),
        ("CODEBUILD_BUILD_NUMBER", id.number.to_string()),
        ("CODEBUILD_BUILD_IMAGE", inputs.image.clone()),
        ("CODEBUILD_BUILD_SUCCEEDING", "1".into()),
        ("CODEBUILD_CI", "true".into()),
        ("CODEBUILD_INITIATOR", inputs.initiator.clone()),
        ("CODEBUILD_LOG_PATH", id.uuid.clone()),
        (
            "CODEBUILD_PROJECT_ARN",
            format!("arn:aws:codebuild:{}:{}:project/{}", id.region, id.account, id.project),
        ),
        ("CODEBUILD_SRC_DIR", inputs.src_dir.clone()),
        ("CODEBUILD_START_TIME", inputs.start_ms.to_string()),
    ];
    env.retain(|name, _| !name.starts_with("CODEBUILD_"));
    for (name, value) in builtins {
        env.insert(name.into(), value);
    }
    for (name, value) in [
        ("CODEBUILD_SOURCE_VERSION", &inputs.source_version),
        ("CODEBUILD_RESOLVED_SOURCE_VERSION", &inputs.resolved_source_version),
    ] {
        if let Some(value) = value {
            env.insert(name.into(), value.clone());
        }
    }
    for (name, value) in &inputs.builtins {
        env.insert(name.clone(), value.clone());
    }
    (env.into_iter().collect(), warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> BuildIdentity {
        BuildIdentity {
            project: "proj".into(),
            uuid: "0f8e2a7c-1111-4222-8333-444455556666".into(),
            number: 3,
            region: "us-east-1".into(),
            account: "000000000000".into(),
        }
    }

    fn inputs(id: &BuildIdentity) -> EnvInputs<'_> {
        EnvInputs {
            base: vec![("HOME".into(), "/home/me".into()), ("PATH".into(), "/bin".into())],
            identity: id,
            start_ms: 1_700_000_000_123,
            src_dir: "/src".into(),
            source_version: None,
            resolved_source_version: Some("a".repeat(40)),
            initiator: "me".into(),
            image: "img".into(),
            home: HomeMode::Keep,
            buildspec: vec![],
            project: vec![],
            overrides: vec![],
            builtins: vec![],
        }
    }

    fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
        env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn builtins() {
        let id = identity();
        let (env, warnings) = assemble_env(&inputs(&id));
        assert!(warnings.is_empty());
        assert_eq!(
            get(&env, "CODEBUILD_BUILD_ID"),
            Some("proj:0f8e2a7c-1111-4222-8333-444455556666")
        );
        assert_eq!(get(&env, "CODEBUILD_BUILD_ARN").map(str::to_owned), Some(id.arn()));
        assert_eq!(get(&env, "CODEBUILD_BUILD_NUMBER"), Some("3"));
        assert_eq!(get(&env, "CODEBUILD_START_TIME"), Some("1700000000123"));
        assert_eq!(get(&env, "CODEBUILD_BUILD_SUCCEEDING"), Some("1"));
        assert_eq!(get(&env, "CODEBUILD_CI"), Some("true"));
        assert_eq!(get(&env, "CODEBUILD_SRC_DIR"), Some("/src"));
        assert_eq!(get(&env, "AWS_REGION"), Some("us-east-1"));
        assert_eq!(get(&env, "AWS_DEFAULT_REGION"), Some("us-east-1"));
        assert_eq!(get(&env, "CODEBUILD_SOURCE_VERSION"), None);
        assert_eq!(get(&env, "PATH"), Some("/bin"));
    }

    #[test]
    fn t27_home_local_keeps_users_container_is_root() {
        let id = identity();
        let mut i = inputs(&id);
        assert_eq!(get(&assemble_env(&i).0, "HOME"), Some("/home/me"));
        i.home = HomeMode::Root;
        assert_eq!(get(&assemble_env(&i).0, "HOME"), Some("/root"));
    }

    #[test]
    fn t28_t29_t30_precedence_and_literal_values() {
        let id = identity();
        let mut i = inputs(&id);
        i.buildspec = vec![("FOO".into(), "a".into()), ("P".into(), "$HOME/x".into())];
        assert_eq!(get(&assemble_env(&i).0, "FOO"), Some("a"));
        i.project = vec![("FOO".into(), "b".into())];
        assert_eq!(get(&assemble_env(&i).0, "FOO"), Some("b"));
        i.overrides = vec![("FOO".into(), "c".into())];
        let (env, _) = assemble_env(&i);
        assert_eq!(get(&env, "FOO"), Some("c"));
        assert_eq!(get(&env, "P"), Some("$HOME/x"));
    }

    #[test]
    fn reserved_names_are_ignored_with_a_warning() {
        let id = identity();
        let mut i = inputs(&id);
        i.buildspec = vec![("CODEBUILD_BUILD_ID".into(), "x".into())];
        i.base.push(("CODEBUILD_FOO".into(), "leak".into()));
        let (env, warnings) = assemble_env(&i);
        assert_eq!(
            get(&env, "CODEBUILD_BUILD_ID"),
            Some("proj:0f8e2a7c-1111-4222-8333-444455556666")
        );
        assert_eq!(get(&env, "CODEBUILD_FOO"), None);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].name, "CODEBUILD_BUILD_ID");
    }
}
