//! The keys of the buildspec format, described once: the parser's known-key lists, its
//! "did you mean" suggestions and the JSON Schema of `kiln schema` all read these tables.

/// What a key's value looks like.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A scalar, read as its text.
    Text,
    /// A boolean: `yes/no/true/false/on/off` in any case, quoted or not.
    Bool,
    /// `version`: `0.1` or `0.2`, as a number or a string.
    Version,
    /// One of these words.
    Word {
        /// The allowed words.
        words: &'static [&'static str],
        /// Whether any case is accepted.
        any_case: bool,
    },
    /// A list of scalars, read as text.
    TextList,
    /// A list of shell commands: every item a string.
    Commands,
    /// `on-failure`: ABORT, CONTINUE, RETRY, RETRY-N, RETRY-regex, RETRY-N-regex.
    OnFailure,
    /// Names to scalar values that become strings (`env.variables`).
    Variables,
    /// Names to scalar text (`parameter-store`, `secrets-manager`, `runtime-versions`).
    TextMap,
    /// Names to lists of scalar values (`build-matrix.dynamic.env.variables`).
    ListMap,
    /// A mapping with these keys.
    Section(&'static [Key]),
    /// A mapping from names of the user's choice to sections with these keys.
    NamedSections(&'static [Key]),
    /// A list of sections with these keys.
    SectionList(&'static [Key]),
    /// A section with these keys, or a list of them read as one (`build-matrix.dynamic`).
    SectionOrList(&'static [Key]),
    /// `phases`: exactly the four phase names.
    Phases,
}

/// One key of a section.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The key as written in a buildspec.
    pub name: &'static str,
    /// Its value.
    pub shape: Shape,
    /// Whether the section is invalid without it.
    pub required: bool,
    /// Whether CodeBuild documents it only for version 0.2 (a 0.1 file gets a warning).
    pub since_0_2: bool,
    /// One line for editors.
    pub doc: &'static str,
}

const fn key(name: &'static str, shape: Shape, doc: &'static str) -> Key {
    Key { name, shape, required: false, since_0_2: false, doc }
}

const fn required(name: &'static str, shape: Shape, doc: &'static str) -> Key {
    Key { name, shape, required: true, since_0_2: false, doc }
}

const fn v02(name: &'static str, shape: Shape, doc: &'static str) -> Key {
    Key { name, shape, required: false, since_0_2: true, doc }
}

/// `keys` followed by `extra`: a section that is another one plus one key. `M` must be `N + 1`
/// (checked when the table is built, at compile time).
const fn plus<const N: usize, const M: usize>(keys: [Key; N], extra: Key) -> [Key; M] {
    assert!(M == N + 1, "plus: M must be N + 1");
    let mut out = [extra; M];
    let mut i = 0;
    while i < N {
        out[i] = keys[i];
        i += 1;
    }
    out
}

/// The shells `env.shell` accepts.
pub const SHELLS: &[&str] =
    &["bash", "/bin/bash", "sh", "/bin/sh", "powershell.exe", "pwsh.exe", "cmd.exe"];

/// The values of `cache.action`.
pub const CACHE_ACTIONS: &[&str] = &["restore", "save"];

/// The values of `reports.*.file-format`, in CodeBuild's order.
pub const REPORT_FORMATS: &[&str] = &[
    "JUNITXML",
    "CUCUMBERJSON",
    "NUNITXML",
    "NUNIT3XML",
    "TESTNGXML",
    "VISUALSTUDIOTRX",
    "CLOVERXML",
    "COBERTURAXML",
    "JACOCOXML",
    "SIMPLECOV",
];

/// The top level of a buildspec.
pub const TOP: &[Key] = &[
    required(
        "version",
        Shape::Version,
        "The buildspec version: 0.2 (shell state carries over) or 0.1.",
    ),
    v02("run-as", Shape::Text, "The Linux user that runs every command."),
    key("env", Shape::Section(ENV), "Environment variables for the build."),
    key(
        "environment_variables",
        Shape::Section(LEGACY_ENV),
        "The version 0.1 spelling of env: `plaintext` is read as env.variables.",
    ),
    key("proxy", Shape::Section(PROXY), "Explicit proxy settings (accepted and ignored by kiln)."),
    v02("batch", Shape::Section(BATCH), "Batch build configuration."),
    key("phases", Shape::Phases, "The commands to run, phase by phase."),
    v02(
        "reports",
        Shape::NamedSections(REPORT),
        "Test and coverage reports, by report group name or ARN.",
    ),
    key("artifacts", Shape::Section(ARTIFACTS), "The build output to upload."),
    key("cache", Shape::Section(CACHE), "Files to cache between builds."),
];

/// `environment_variables`, the spelling of `env` in the first buildspec format.
pub const LEGACY_ENV: &[Key] = &[key(
    "plaintext",
    Shape::Variables,
    "Plain variables (the version 0.1 spelling of env.variables).",
)];

/// `env`.
pub const ENV: &[Key] = &[
    key(
        "shell",
        Shape::Word { words: SHELLS, any_case: false },
        "The shell that runs commands (default sh).",
    ),
    key(
        "variables",
        Shape::Variables,
        "Plain variables; values are taken literally ($VAR is not expanded).",
    ),
    key(
        "parameter-store",
        Shape::TextMap,
        "Variables read from SSM Parameter Store: NAME: parameter-name.",
    ),
    v02(
        "secrets-manager",
        Shape::TextMap,
        "Variables read from Secrets Manager: NAME: secret-id:json-key:version-stage:version-id.",
    ),
    v02(
        "exported-variables",
        Shape::TextList,
        "Variables whose final values are recorded with the build.",
    ),
    key("git-credential-helper", Shape::Bool, "Use the build's Git credentials for git commands."),
];

/// `proxy`.
pub const PROXY: &[Key] = &[
    key("upload-artifacts", Shape::Bool, "Upload artifacts through the proxy."),
    key("logs", Shape::Bool, "Send logs through the proxy."),
];

/// The `env` of a batch task and of `build-matrix.static`.
pub const BATCH_ENV: &[Key] = &[
    key("compute-type", Shape::Text, "The compute type of this build."),
    key("fleet", Shape::Text, "The fleet of this build."),
    key("image", Shape::Text, "The image of this build."),
    key("privileged-mode", Shape::Bool, "Run the build container privileged."),
    key("type", Shape::Text, "The environment type (LINUX_CONTAINER, ARM_CONTAINER, ...)."),
    key("variables", Shape::Variables, "Variables for this build."),
];

/// The keys of a build-list task.
const LIST_TASK: [Key; 5] = [
    required("identifier", Shape::Text, "The task's identifier."),
    key("buildspec", Shape::Text, "Another buildspec file for this task."),
    key("env", Shape::Section(BATCH_ENV), "The task's environment."),
    key("ignore-failure", Shape::Bool, "Whether the batch may succeed when this task fails."),
    key("debug-session", Shape::Bool, "Enable a debug session for this task."),
];

/// A task of `build-list`.
pub const BATCH_LIST_TASK: &[Key] = &LIST_TASK;

/// A task of `build-graph`: a build-list task plus `depend-on`.
pub const BATCH_GRAPH_TASK: &[Key] = &plus::<5, 6>(
    LIST_TASK,
    key("depend-on", Shape::TextList, "Identifiers of the tasks that must finish first."),
);

/// `build-matrix.static`.
pub const MATRIX_STATIC: &[Key] = &[
    key("ignore-failure", Shape::Bool, "Whether the batch may succeed when a build fails."),
    key("env", Shape::Section(BATCH_ENV), "The environment of every build."),
];

/// `build-matrix.dynamic.env`.
pub const MATRIX_DYNAMIC_ENV: &[Key] = &[
    key("compute-type", Shape::TextList, "Compute types to try."),
    key("image", Shape::TextList, "Images to try."),
    key("variables", Shape::ListMap, "Variables, each with the values to try."),
];

/// `build-matrix.dynamic`.
pub const MATRIX_DYNAMIC: &[Key] = &[
    key("buildspec", Shape::TextList, "Buildspec files to try."),
    key("env", Shape::Section(MATRIX_DYNAMIC_ENV), "Environment values to try."),
];

/// `build-matrix`.
pub const MATRIX: &[Key] = &[
    key("static", Shape::Section(MATRIX_STATIC), "Settings of every build."),
    key(
        "dynamic",
        Shape::SectionOrList(MATRIX_DYNAMIC),
        "Values whose combinations become builds (a list of such mappings is read as one).",
    ),
];

/// `batch`.
pub const BATCH: &[Key] = &[
    key("fast-fail", Shape::Bool, "Stop the batch once one build fails."),
    key("build-list", Shape::SectionList(BATCH_LIST_TASK), "Builds that run in parallel."),
    key("build-graph", Shape::SectionList(BATCH_GRAPH_TASK), "Builds with dependencies."),
    key("build-matrix", Shape::Section(MATRIX), "Builds from combinations of values."),
];

/// The keys every phase takes.
const PHASE_KEYS: [Key; 4] = [
    v02("run-as", Shape::Text, "The Linux user for this phase."),
    v02(
        "on-failure",
        Shape::OnFailure,
        "ABORT, CONTINUE, RETRY, RETRY-<count>, RETRY-<regex> or RETRY-<count>-<regex>.",
    ),
    key("commands", Shape::Commands, "Commands, run one by one."),
    v02("finally", Shape::Commands, "Commands run after `commands`, even when one failed."),
];
/// `pre_build`, `build` and `post_build`.
pub const PHASE: &[Key] = &PHASE_KEYS;

/// `install` (the only phase with `runtime-versions`).
pub const INSTALL: &[Key] = &plus::<4, 5>(
    PHASE_KEYS,
    key(
        "runtime-versions",
        Shape::TextMap,
        "Runtime versions (ignored by kiln, which runs the image as is).",
    ),
);

/// A report group under `reports`.
pub const REPORT: &[Key] = &[
    required("files", Shape::TextList, "Report files, as globs."),
    key("base-directory", Shape::Text, "The directory the globs are relative to."),
    key("discard-paths", Shape::Bool, "Drop directories from the report file names."),
    key(
        "file-format",
        Shape::Word { words: REPORT_FORMATS, any_case: true },
        "The report format (default JUNITXML).",
    ),
];

/// The keys of an artifact, primary or secondary.
const ARTIFACT_KEYS: [Key; 7] = [
    required("files", Shape::TextList, "Files to upload, as globs."),
    key("name", Shape::Text, "The artifact name (used when the project overrides artifact names)."),
    key("discard-paths", Shape::Bool, "Put every file at the artifact root."),
    key("base-directory", Shape::Text, "The directory the globs are relative to."),
    key("exclude-paths", Shape::TextList, "Globs of files to leave out."),
    key("enable-symlinks", Shape::Bool, "Keep symlinks in a ZIP artifact."),
    key("s3-prefix", Shape::Text, "A prefix for the artifact's S3 key."),
];

/// A secondary artifact.
pub const SECONDARY_ARTIFACT: &[Key] = &ARTIFACT_KEYS;

/// `artifacts`: a secondary artifact's keys plus `secondary-artifacts`.
pub const ARTIFACTS: &[Key] = &plus::<7, 8>(
    ARTIFACT_KEYS,
    v02(
        "secondary-artifacts",
        Shape::NamedSections(SECONDARY_ARTIFACT),
        "Further artifacts, by the project's artifact identifier.",
    ),
);

/// `cache`.
pub const CACHE: &[Key] = &[
    key("paths", Shape::TextList, "Paths to cache, as globs."),
    v02("key", Shape::Text, "The cache key (shell text)."),
    v02("fallback-keys", Shape::TextList, "Key prefixes tried in order when `key` has no entry."),
    v02("action", Shape::Word { words: CACHE_ACTIONS, any_case: false }, "restore or save only."),
];

/// The key named `name` in `keys`.
pub fn find(keys: &'static [Key], name: &str) -> Option<&'static Key> {
    keys.iter().find(|k| k.name == name)
}
