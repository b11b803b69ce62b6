//! `kiln validate`: checks buildspec files and project catalogs and prints every problem with
//! its line and column (and, for a catalog, its field path).
//!
//! With no file, `./buildspec.yml` is checked (its absence is exit 2, naming the path);
//! `--config FILE` checks a catalog alone, as `kiln run`, `kiln resolve` and `kiln serve` load
//! it. A catalog given as a buildspec (a mapping with `projects`, or with `name` and neither
//! `version` nor `phases`) is one error that points at `--config`, rather than the buildspec
//! errors it would otherwise get.
//!
//! Each file (or standard input) is read with its size limit ([`kiln_core::limits::BUILDSPEC`],
//! [`kiln_core::limits::CATALOG`]) before it is buffered; a larger one is unreadable (exit 2)
//! with a message naming the file and the limit. A closed stdout ends the command
//! quietly ([`crate::print`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiln_core::buildspec::parse;
use kiln_core::diagnostic::{Diagnostic, Position};
use kiln_core::limits::{BUILDSPEC, CATALOG, Limit};
use kiln_core::project::{load_catalog, looks_like_catalog};
use serde_json::json;

use crate::input::{InputError, read_file, read_from};
use crate::print;

/// The buildspec checked when no file is named, as CodeBuild reads it from the source root.
const DEFAULT_BUILDSPEC: &str = "buildspec.yml";

/// Arguments of `kiln validate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "With no FILE and no --config, checks ./buildspec.yml.\n\nExit status: 0 when every \
    file is valid (warnings allowed), 1 when any file has an error, 2 on a usage error or when a \
    file cannot be read (the other files are still checked)."
)]
pub struct Args {
    /// How to print the result: `text` prints `FILE:LINE:COL: error|warning: MESSAGE` with the
    /// offending line under it, then a summary on stderr; `json` prints one array of
    /// {file, kind, valid, diagnostics: [{severity, line, column, path, message, help}]}.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// A project catalog to check (YAML or JSON, CodeBuild's project field names), alone or
    /// beside buildspecs; each diagnostic names the field path. May be repeated; `-` reads
    /// standard input.
    #[arg(long, value_name = "FILE")]
    config: Vec<PathBuf>,
    /// Buildspec files to check; `-` reads standard input. Default: ./buildspec.yml, when no
    /// --config is given.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// The output formats of `kiln validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Compiler-style diagnostics.
    Text,
    /// A JSON array, one object per file.
    Json,
}

/// What a file is checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A buildspec.
    Buildspec,
    /// A project catalog (`--config`).
    Catalog,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Buildspec => "buildspec",
            Self::Catalog => "catalog",
        }
    }

    fn limit(self) -> Limit {
        match self {
            Self::Buildspec => BUILDSPEC,
            Self::Catalog => CATALOG,
        }
    }
}

/// One file that was read and checked.
struct Checked {
    name: String,
    kind: Kind,
    text: String,
    valid: bool,
    diagnostics: Vec<Diagnostic>,
}

impl Checked {
    fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Runs `kiln validate`.
pub fn run(args: &Args) -> ExitCode {
    let mut inputs: Vec<(&Path, Kind)> =
        args.config.iter().map(|c| (c.as_path(), Kind::Catalog)).collect();
    inputs.extend(args.files.iter().map(|f| (f.as_path(), Kind::Buildspec)));
    let defaulted = inputs.is_empty();
    if defaulted {
        inputs.push((Path::new(DEFAULT_BUILDSPEC), Kind::Buildspec));
    }
    let mut checked = Vec::new();
    let mut unreadable = 0usize;
    for (path, kind) in inputs {
        match read(path, kind) {
            Ok((name, bytes)) => checked.push(check(name, kind, bytes)),
            Err(error) if defaulted && error.is_missing() => {
                print::note(&format!(
                    "kiln validate: no FILE given, and ./{DEFAULT_BUILDSPEC} does not exist \
                     (name the buildspecs to check, or a catalog with --config FILE)"
                ));
                return ExitCode::from(2);
            }
            Err(error) => {
                print::note(&format!("kiln validate: {}", print::chain(&error)));
                unreadable += 1;
            }
        }
    }
    let printed = match args.format {
        Format::Text => print::stdout(|out| print_text(out, &checked)),
        Format::Json => print::stdout(|out| print_json(out, &checked)),
    };
    if let Err(error) = printed {
        return error.exit_code("validate", 2);
    }
    if args.format == Format::Text {
        print::note(&summary(&checked, unreadable));
    }
    if unreadable > 0 {
        ExitCode::from(2)
    } else if checked.iter().all(|c| c.valid) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The name `path` is shown under, and its bytes (standard input for `-`).
fn read(path: &Path, kind: Kind) -> Result<(String, Vec<u8>), InputError> {
    if path.as_os_str() == "-" {
        let name = "<stdin>";
        Ok((name.to_owned(), read_from(name, std::io::stdin().lock(), kind.limit())?))
    } else {
        Ok((path.display().to_string(), read_file(path, kind.limit())?))
    }
}

fn check(name: String, kind: Kind, bytes: Vec<u8>) -> Checked {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return not_utf8(name, kind, &error),
    };
    let (valid, diagnostics) = match kind {
        Kind::Buildspec => {
            let parsed = parse(&text);
            if !parsed.is_valid() && looks_like_catalog(&text) {
                (false, vec![catalog_given_as_buildspec(&name)])
            } else {
                (parsed.is_valid(), parsed.diagnostics)
            }
        }
        Kind::Catalog => match load_catalog(&text) {
            Ok(catalog) => (true, catalog.warnings),
            Err(error) => (false, error.diagnostics()),
        },
    };
    Checked { name, kind, text, valid, diagnostics }
}

/// The one error for a catalog checked as a buildspec: its buildspec errors (no `version`,
/// no `phases`, unknown `projects`) would only hide what is wrong.
fn catalog_given_as_buildspec(name: &str) -> Diagnostic {
    let target = if name == "<stdin>" { "-" } else { name };
    Diagnostic::error(Position::new(1, 1), "", "this looks like a project catalog, not a buildspec")
        .with_help(format!("check a catalog with `kiln validate --config {target}`"))
}

fn not_utf8(name: String, kind: Kind, error: &std::string::FromUtf8Error) -> Checked {
    let at = error.utf8_error().valid_up_to();
    let valid = &error.as_bytes()[..at];
    let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
    let diagnostic = Diagnostic::error(
        Position::new(u32::try_from(line).unwrap_or(u32::MAX), 1),
        "",
        "the file is not UTF-8 text",
    );
    let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
    Checked { name, kind, text, valid: false, diagnostics: vec![diagnostic] }
}

fn print_text(out: &mut dyn Write, checked: &[Checked]) -> std::io::Result<()> {
    for c in checked {
        for d in &c.diagnostics {
            let shown = match c.kind {
                Kind::Buildspec => d.render(&c.name, &c.text),
                Kind::Catalog => d.render_with_path(&c.name, &c.text),
            };
            writeln!(out, "{shown}\n")?;
        }
    }
    Ok(())
}

fn print_json(out: &mut dyn Write, checked: &[Checked]) -> std::io::Result<()> {
    let files: Vec<serde_json::Value> = checked
        .iter()
        .map(|c| {
            let diagnostics: Vec<serde_json::Value> = c
                .diagnostics
                .iter()
                .map(|d| {
                    json!({
                        "severity": d.severity,
                        "line": d.position.line,
                        "column": d.position.column,
                        "path": d.path,
                        "message": d.message,
                        "help": d.help,
                    })
                })
                .collect();
            json!({
                "file": c.name,
                "kind": c.kind.name(),
                "valid": c.valid,
                "diagnostics": diagnostics,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &files)?;
    writeln!(out)
}

/// `kiln validate: 3 files: 2 valid, 1 invalid; 1 error, 4 warnings`.
fn summary(checked: &[Checked], unreadable: usize) -> String {
    let valid = checked.iter().filter(|c| c.valid).count();
    let errors: usize = checked.iter().map(Checked::errors).sum();
    let warnings: usize = checked.iter().map(Checked::warnings).sum();
    let total = checked.len() + unreadable;
    let mut line = format!(
        "kiln validate: {}: {valid} valid, {} invalid",
        plural(total, "file"),
        checked.len() - valid
    );
    if unreadable > 0 {
        line.push_str(&format!(", {unreadable} unreadable"));
    }
    line.push_str(&format!("; {}, {}", plural(errors, "error"), plural(warnings, "warning")));
    line
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
