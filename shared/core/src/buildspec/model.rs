//! The typed buildspec: every key of CodeBuild's format, versions 0.1 and 0.2.
//!
//! Values are already normalised: booleans are `bool`, variable values are strings (numbers
//! and booleans turned into text as CodeBuild does), maps keep their source order. Positions
//! of commands are kept so run-time messages can point back at the file.

use std::fmt;

use crate::diagnostic::Position;

/// A whole buildspec.
#[derive(Debug, Clone, PartialEq)]
pub struct Buildspec {
    /// `version`: selects how shell state carries between commands.
    pub version: Version,
    /// `run-as`: the Linux user for every command, unless a phase says otherwise.
    pub run_as: Option<String>,
    /// `env`.
    pub env: Env,
    /// `proxy`: accepted for compatibility; kiln does not use an explicit proxy.
    pub proxy: Proxy,
    /// `batch`: batch build configuration, if any.
    pub batch: Option<Batch>,
    /// `phases`.
    pub phases: Phases,
    /// `reports`, in source order.
    pub reports: Vec<ReportSpec>,
    /// `artifacts`.
    pub artifacts: Option<ArtifactsSpec>,
    /// `cache`.
    pub cache: Option<CacheSpec>,
}

/// The buildspec `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `0.1`: every command runs in a fresh shell from the initial state.
    V0_1,
    /// `0.2`: working directory and variables carry across commands and phases.
    V0_2,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V0_1 => "0.1",
            Self::V0_2 => "0.2",
        })
    }
}

/// `env`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Env {
    /// `env.shell`; `None` means `sh` on Linux.
    pub shell: Option<Shell>,
    /// `env.variables`: plain values, taken literally (no `$VAR` expansion).
    pub variables: Vec<(String, String)>,
    /// `env.parameter-store`: variable name → SSM parameter name.
    pub parameter_store: Vec<(String, String)>,
    /// `env.secrets-manager`: variable name → secret reference.
    pub secrets_manager: Vec<(String, SecretRef)>,
    /// `env.exported-variables`: names whose values at the end of the build are recorded.
    pub exported_variables: Vec<String>,
    /// `env.git-credential-helper`.
    pub git_credential_helper: bool,
}

/// The shell that runs commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shell {
    /// `sh` or `/bin/sh`.
    Sh,
    /// `bash` or `/bin/bash`.
    Bash,
    /// `powershell.exe` or `pwsh.exe`: Windows only.
    PowerShell,
    /// `cmd.exe`: Windows only.
    Cmd,
}

/// `secret-id[:json-key[:version-stage[:version-id]]]` of `env.secrets-manager`.
///
/// The secret id may itself be an ARN, which contains colons: the reference is split from the
/// right of `arn:aws:secretsmanager:<region>:<account>:secret:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The secret's name or ARN.
    pub secret_id: String,
    /// A key inside a JSON secret; `None` for the whole secret string.
    pub json_key: Option<String>,
    /// A version stage such as `AWSCURRENT`.
    pub version_stage: Option<String>,
    /// A version id.
    pub version_id: Option<String>,
}

impl SecretRef {
    /// Reads `secret-id[:json-key[:version-stage[:version-id]]]`; empty parts are absent. A
    /// secret id that is an ARN keeps its own colons (its first seven parts).
    ///
    /// # Errors
    /// [`SecretRefError`] when the id is empty, there are more than four parts, or both a
    /// version stage and a version id are set.
    pub fn parse(text: &str) -> Result<Self, SecretRefError> {
        let parts: Vec<&str> = text.split(':').collect();
        let id_parts = if text.starts_with("arn:") { 7.min(parts.len()) } else { 1 };
        let secret_id = parts[..id_parts].join(":");
        let rest = &parts[id_parts..];
        if secret_id.is_empty() {
            return Err(SecretRefError::NoSecretId);
        }
        if rest.len() > 3 {
            return Err(SecretRefError::TooManyParts(text.to_owned()));
        }
        let part = |i: usize| rest.get(i).filter(|s| !s.is_empty()).map(|s| (*s).to_owned());
        let secret =
            Self { secret_id, json_key: part(0), version_stage: part(1), version_id: part(2) };
        if secret.version_stage.is_some() && secret.version_id.is_some() {
            return Err(SecretRefError::StageAndId(text.to_owned()));
        }
        Ok(secret)
    }
}

/// Why a secret reference cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    /// Nothing before the first colon.
    #[error("the secret reference has no secret id")]
    NoSecretId,
    /// More than secret-id, json-key, version-stage and version-id.
    #[error(
        "the secret reference `{0}` has more than four parts (secret-id:json-key:version-stage:version-id)"
    )]
    TooManyParts(String),
    /// Both a version stage and a version id.
    #[error(
        "the secret reference `{0}` sets both a version stage and a version id; they are mutually exclusive"
    )]
    StageAndId(String),
}

/// `proxy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Proxy {
    /// `proxy.upload-artifacts`.
    pub upload_artifacts: bool,
    /// `proxy.logs`.
    pub logs: bool,
}

/// `batch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// `batch.fast-fail`.
    pub fast_fail: bool,
    /// Which of build-list, build-graph or build-matrix.
    pub kind: Option<BatchKind>,
}

/// The one batch shape a buildspec chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchKind {
    /// `build-list`.
    List(Vec<BatchTask>),
    /// `build-graph`: tasks with `depend-on`.
    Graph(Vec<BatchTask>),
    /// `build-matrix`.
    Matrix(BuildMatrix),
}

/// One task of a build list or build graph.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchTask {
    /// `identifier`.
    pub identifier: String,
    /// `buildspec`: another buildspec file for this task.
    pub buildspec: Option<String>,
    /// `env`.
    pub env: BatchEnv,
    /// `ignore-failure`.
    pub ignore_failure: bool,
    /// `debug-session`.
    pub debug_session: bool,
    /// `depend-on` (build-graph only).
    pub depend_on: Vec<String>,
}

/// The `env` of a batch task.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchEnv {
    /// `compute-type`.
    pub compute_type: Option<String>,
    /// `image`.
    pub image: Option<String>,
    /// `privileged-mode`.
    pub privileged_mode: Option<bool>,
    /// `type`.
    pub environment_type: Option<String>,
    /// `variables`.
    pub variables: Vec<(String, String)>,
}

/// `build-matrix`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildMatrix {
    /// `static.ignore-failure`.
    pub static_ignore_failure: bool,
    /// `static.env`.
    pub static_env: BatchEnv,
    /// `dynamic.buildspec`.
    pub dynamic_buildspecs: Vec<String>,
    /// `dynamic.env.compute-type`.
    pub dynamic_compute_types: Vec<String>,
    /// `dynamic.env.image`.
    pub dynamic_images: Vec<String>,
    /// `dynamic.env.variables`: name → the values to try.
    pub dynamic_variables: Vec<(String, Vec<String>)>,
}

/// The four phases a buildspec can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhaseName {
    /// `install`.
    Install,
    /// `pre_build`.
    PreBuild,
    /// `build`.
    Build,
    /// `post_build`.
    PostBuild,
}

impl PhaseName {
    /// All four, in the order they run.
    pub const ALL: [Self; 4] = [Self::Install, Self::PreBuild, Self::Build, Self::PostBuild];

    /// The key in a buildspec: `install`, `pre_build`, `build`, `post_build`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::PreBuild => "pre_build",
            Self::Build => "build",
            Self::PostBuild => "post_build",
        }
    }

    /// The phase type CodeBuild reports: `INSTALL`, `PRE_BUILD`, `BUILD`, `POST_BUILD`.
    pub fn phase_type(self) -> &'static str {
        match self {
            Self::Install => "INSTALL",
            Self::PreBuild => "PRE_BUILD",
            Self::Build => "BUILD",
            Self::PostBuild => "POST_BUILD",
        }
    }

    /// The phase for a buildspec key, exactly as written.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// `phases`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Phases {
    /// `install`.
    pub install: Option<Phase>,
    /// `pre_build`.
    pub pre_build: Option<Phase>,
    /// `build`.
    pub build: Option<Phase>,
    /// `post_build`.
    pub post_build: Option<Phase>,
}

impl Phases {
    /// The phase declared under `name`, if any.
    pub fn get(&self, name: PhaseName) -> Option<&Phase> {
        match name {
            PhaseName::Install => self.install.as_ref(),
            PhaseName::PreBuild => self.pre_build.as_ref(),
            PhaseName::Build => self.build.as_ref(),
            PhaseName::PostBuild => self.post_build.as_ref(),
        }
    }

    /// The slot for `name`.
    pub fn get_mut(&mut self, name: PhaseName) -> &mut Option<Phase> {
        match name {
            PhaseName::Install => &mut self.install,
            PhaseName::PreBuild => &mut self.pre_build,
            PhaseName::Build => &mut self.build,
            PhaseName::PostBuild => &mut self.post_build,
        }
    }
}

/// One phase.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Phase {
    /// `run-as`: overrides the top-level `run-as`.
    pub run_as: Option<String>,
    /// `on-failure`; `None` means the default transitions.
    pub on_failure: Option<OnFailure>,
    /// `runtime-versions` (install only): kept, but kiln runs arbitrary images and ignores it.
    pub runtime_versions: Vec<(String, String)>,
    /// `commands`.
    pub commands: Vec<Command>,
    /// `finally`.
    pub finally: Vec<Command>,
    /// Items of `commands` that YAML reads as null (a bare `-`, `- # comment`, `- ~`), which
    /// CodeBuild skips: they are not in [`Phase::commands`]; the agent logs one line for each
    /// where it would have run (see [`SkippedCommand::after`]).
    pub skipped_commands: Vec<SkippedCommand>,
    /// Items of `finally` that YAML reads as null, as [`Phase::skipped_commands`].
    pub skipped_finally: Vec<SkippedCommand>,
}

/// A command item that YAML reads as null and CodeBuild skips.
///
/// Real long-lived buildspecs (AWS's own among them) hold a bare `-` or `- # comment` in
/// their commands, and CodeBuild runs them: the item is passed over. kiln does the same, with
/// a warning in `kiln validate`; the agent logs a line such as
/// `Skipping empty command Commands[3] at line 12` when it reaches the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedCommand {
    /// The item's index in the YAML list (CodeBuild's `Commands[<index>]`).
    pub index: usize,
    /// How many commands of the same list come before it: the agent reaches the item after
    /// running that many (0: before the first).
    pub after: usize,
    /// Where the item is written (its `-`).
    pub position: Position,
}

/// One command: a scalar of `commands` or `finally`, possibly several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The shell text.
    pub text: String,
    /// Where it is written in the buildspec.
    pub position: Position,
}

/// `on-failure`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnFailure {
    /// `ABORT`: stop the build at once.
    Abort,
    /// `CONTINUE`: go on to the next phase; the build still ends FAILED.
    Continue,
    /// `RETRY`, `RETRY-<count>`, `RETRY-<regex>`, `RETRY-<count>-<regex>`.
    Retry {
        /// How many more times to run the phase: 3 unless given (0 to 100).
        count: u32,
        /// Retry only while the failed phase's output matches this regular expression
        /// (already checked to compile).
        pattern: Option<String>,
    },
}

/// The formats a report may declare in `file-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportFormat {
    /// `JUNITXML` (the default).
    JunitXml,
    /// `CUCUMBERJSON`.
    CucumberJson,
    /// `NUNITXML`.
    NunitXml,
    /// `NUNIT3XML`.
    Nunit3Xml,
    /// `TESTNGXML`.
    TestngXml,
    /// `VISUALSTUDIOTRX`.
    VisualStudioTrx,
    /// `CLOVERXML` (coverage).
    CloverXml,
    /// `COBERTURAXML` (coverage).
    CoberturaXml,
    /// `JACOCOXML` (coverage).
    JacocoXml,
    /// `SIMPLECOV` (coverage).
    Simplecov,
}

impl ReportFormat {
    /// Every format, in CodeBuild's order.
    pub const ALL: [Self; 10] = [
        Self::JunitXml,
        Self::CucumberJson,
        Self::NunitXml,
        Self::Nunit3Xml,
        Self::TestngXml,
        Self::VisualStudioTrx,
        Self::CloverXml,
        Self::CoberturaXml,
        Self::JacocoXml,
        Self::Simplecov,
    ];

    /// CodeBuild's name: `JUNITXML`, `COBERTURAXML`, ...
    pub fn name(self) -> &'static str {
        match self {
            Self::JunitXml => "JUNITXML",
            Self::CucumberJson => "CUCUMBERJSON",
            Self::NunitXml => "NUNITXML",
            Self::Nunit3Xml => "NUNIT3XML",
            Self::TestngXml => "TESTNGXML",
            Self::VisualStudioTrx => "VISUALSTUDIOTRX",
            Self::CloverXml => "CLOVERXML",
            Self::CoberturaXml => "COBERTURAXML",
            Self::JacocoXml => "JACOCOXML",
            Self::Simplecov => "SIMPLECOV",
        }
    }

    /// The format for a name, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Whether this is a code coverage format rather than a test format.
    pub fn is_coverage(self) -> bool {
        matches!(self, Self::CloverXml | Self::CoberturaXml | Self::JacocoXml | Self::Simplecov)
    }
}

/// One entry of `reports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The key: a report group name or a report group ARN.
    pub key: String,
    /// `files`.
    pub files: Vec<String>,
    /// `base-directory`.
    pub base_directory: Option<String>,
    /// `discard-paths`.
    pub discard_paths: bool,
    /// `file-format`; JUNITXML when absent.
    pub file_format: ReportFormat,
}

/// `artifacts`, or one of its `secondary-artifacts`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArtifactsSpec {
    /// `files`.
    pub files: Vec<String>,
    /// `name`: shell text, used only when the project sets `overrideArtifactName`.
    pub name: Option<String>,
    /// `discard-paths`.
    pub discard_paths: bool,
    /// `base-directory`: a directory or a glob over top-level directories.
    pub base_directory: Option<String>,
    /// `exclude-paths`.
    pub exclude_paths: Vec<String>,
    /// `enable-symlinks`.
    pub enable_symlinks: bool,
    /// `s3-prefix`.
    pub s3_prefix: Option<String>,
    /// `secondary-artifacts`: artifact identifier → its own settings (none nest further).
    pub secondary: Vec<(String, ArtifactsSpec)>,
}

/// `cache.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheAction {
    /// Restore only, never save.
    Restore,
    /// Save only, never restore.
    Save,
}

/// `cache`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheSpec {
    /// `paths`: globs, relative to the source directory or absolute.
    pub paths: Vec<String>,
    /// `key`: shell text evaluated at run time.
    pub key: Option<String>,
    /// `fallback-keys`: prefixes tried in order when `key` has no exact entry.
    pub fallback_keys: Vec<String>,
    /// `action`; `None` means restore and save.
    pub action: Option<CacheAction>,
}
