//! Reading a buildspec text into [`Buildspec`], with every problem found at once.
//!
//! The text is read with [`crate::yaml`] (positions on every node, YAML 1.1 scalars as
//! CodeBuild's Go reader resolves them). A YAML syntax error is a single error: nothing else
//! can be checked then. Otherwise every problem of the file is reported, sorted by position,
//! each with its YAML path (`phases.build.commands[2]`).
//!
//! Choices where CodeBuild's behaviour is not documented ([INF] in the behaviour spec):
//! - a buildspec without `phases` is accepted when it has `batch` (a batch-only buildspec
//!   whose tasks name their own buildspec files); otherwise it is an error;
//! - `phases` present but empty, and a phase without commands, are accepted;
//! - phase names must be written exactly `install`, `pre_build`, `build`, `post_build`;
//!   anything else is CodeBuild's `Invalid buildspec phase name` error;
//! - `runtime-versions` outside `install` is an unknown key (warning); inside it, a warning
//!   that kiln ignores it (it runs the project's image as is);
//! - lists of paths (`files`, `paths`, `exclude-paths`, ...) written as a single string are
//!   read as a one-item list, with a warning; `commands` and `finally` written as a string
//!   are an error, as CodeBuild says;
//! - variable names starting with `CODEBUILD_` are dropped, with a warning (spec §1.3);
//! - features documented for 0.2 only are read in a 0.1 file, with a warning (spec §1.5);
//! - duplicate keys: the last one is used, as Go's reader does, with a warning.
//! - `environment_variables.plaintext`, the first format's spelling of `env.variables`, is read
//!   as `env.variables` in both versions (real 0.1 and 0.2 files rely on it); a 0.2 file gets a
//!   warning that suggests `env.variables`, and a name also in `env` keeps its `env` value.
//! - `on-failure` keywords are upper case only (`abort` is an error that suggests `ABORT`);
//!   `RETRY` alone retries 3 times; `RETRY-<count>-<regex>` is read when the text after
//!   `RETRY-` starts with digits and a dash, `RETRY-<count>` when it is all digits, and
//!   `RETRY-<regex>` otherwise; regexes use the Rust `regex` dialect and must compile;
//! - values of `env.variables` become strings as CodeBuild's Go reader turns them into text
//!   (`yes` → `true`, `3.10` → `3.1`, `010` → `8`), with a warning when that changes the text;
//!   `$VAR` inside them is taken literally, with a warning;
//! - the same variable name in two of `variables`, `parameter-store` and `secrets-manager`
//!   is a warning (which one wins is undefined in CodeBuild's docs);
//! - string-valued keys accept any scalar as its text (`name: 2024` is `"2024"`), except
//!   commands, which CodeBuild requires to be strings;
//! - a command item YAML reads as null (a bare `-`, `- # comment`, `- ~`) is skipped with a
//!   warning, as CodeBuild skips it (long-lived buildspecs of AWS's own projects hold them and
//!   run); the model keeps where each was ([`super::super::Phase::skipped_commands`]) so the
//!   agent can log the skip;
//! - `batch.build-matrix.dynamic` written as a list of mappings (as one large AWS project's
//!   CI does) is read, with a warning, as one mapping whose every key holds the values of all
//!   entries, in order, without repeating a value an earlier entry gave: the matrix is the
//!   product of the combined dimensions. [INF: CodeBuild documents only the mapping form;
//!   merging keeps every value the author listed and makes no build the mapping form would
//!   not make from the same values.]

use crate::diagnostic::{Diagnostic, Position};
use crate::yaml::{self, Node, Resolved, Value};

use super::super::keys::TOP;
use super::super::model::{Buildspec, Version};
use super::reader::Reader;
use super::{batch, env, outputs, phases};

/// The outcome of reading a buildspec: the model when there is no error, and every
/// diagnostic (errors and warnings) in source order.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The buildspec; `None` when any diagnostic is an error.
    pub buildspec: Option<Buildspec>,
    /// All problems found, errors and warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether the buildspec can be used (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.buildspec.is_some()
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// Reads a buildspec text.
///
/// A leading byte order mark is skipped, as Go's YAML reader does.
pub fn parse(text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = match yaml::parse(text) {
        Ok(document) => document,
        Err(error) => return Parsed { buildspec: None, diagnostics: vec![error] },
    };
    let mut r = Reader::new(text);
    r.diagnostics.extend(document.warnings);
    let buildspec = match &document.root {
        Some(root) => read(&mut r, root),
        None => {
            r.error(Position::new(1, 1), "", "the buildspec is empty");
            r.help("a buildspec needs at least `version: 0.2` and `phases`");
            None
        }
    };
    let mut diagnostics = r.diagnostics;
    diagnostics.sort_by_key(|d| d.position);
    let valid = !diagnostics.iter().any(Diagnostic::is_error);
    Parsed { buildspec: buildspec.filter(|_| valid), diagnostics }
}

fn read(r: &mut Reader, root: &Node) -> Option<Buildspec> {
    if !matches!(root.value, Value::Mapping(_)) {
        r.wrong_type(root, "", "a mapping with `version` and `phases`");
        return None;
    }
    let version = root.get("version").and_then(|v| read_version(r, v));
    if let Some(v) = version {
        r.version = v;
    }
    let top = r.section(root, "", TOP)?;
    if top.get("version").is_none() {
        r.help("add `version: 0.2` at the top of the file");
    }
    let run_as = top.get("run-as").and_then(|(n, p)| r.text(n, &p));
    let mut env = top.get("env").map(|(n, p)| env::read(r, n, &p)).unwrap_or_default();
    if let (Some((n, p)), Some(at)) =
        (top.get("environment_variables"), top.key_pos("environment_variables"))
    {
        env::legacy(r, n, &p, at, &mut env);
    }
    let proxy = top.get("proxy").map(|(n, p)| env::proxy(r, n, &p)).unwrap_or_default();
    let batch = top.get("batch").and_then(|(n, p)| batch::read(r, n, &p));
    let phases = match top.get("phases") {
        Some((n, p)) => phases::read(r, n, &p),
        None => {
            if batch.is_none() {
                r.error(root.pos, "", "missing required key `phases`");
                r.help("add `phases:` with at least one of install, pre_build, build, post_build");
            }
            Default::default()
        }
    };
    let reports = top.get("reports").map(|(n, p)| outputs::reports(r, n, &p)).unwrap_or_default();
    let artifacts = top.get("artifacts").and_then(|(n, p)| outputs::artifacts(r, n, &p));
    let cache = top.get("cache").and_then(|(n, p)| outputs::cache(r, n, &p));
    Some(Buildspec {
        version: version?,
        run_as,
        env,
        proxy,
        batch,
        phases,
        reports,
        artifacts,
        cache,
    })
}

/// `version`: a number or a string equal to 0.1 or 0.2 (`0.20` is 0.2).
fn read_version(r: &mut Reader, node: &Node) -> Option<Version> {
    let Some(scalar) = node.as_scalar() else {
        r.wrong_type(node, "version", "0.1 or 0.2");
        return None;
    };
    let number = match scalar.resolve() {
        Resolved::Float(f) => Some(f),
        Resolved::Int(i) => Some(i as f64),
        Resolved::Str => scalar.text.trim().parse::<f64>().ok(),
        Resolved::Null | Resolved::Bool(_) => None,
    };
    match number {
        Some(0.2) => Some(Version::V0_2),
        Some(0.1) => Some(Version::V0_1),
        _ => {
            r.error(
                node.pos,
                "version",
                format!("unsupported buildspec version `{}`; expected 0.1 or 0.2", scalar.text),
            );
            r.help("use `version: 0.2`");
            None
        }
    }
}
