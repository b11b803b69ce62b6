//! `kiln validate`: checks buildspec files and prints every problem with its line and column.
//!
//! Each file (or standard input) is read with the buildspec size limit
//! ([`kiln_core::limits::BUILDSPEC`]) before it is buffered; a larger one is unreadable
//! (exit 2) with a message naming the file and the limit. A closed stdout ends the command
//! quietly ([`crate::print`]).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kiln_core::buildspec::{Parsed, parse};
use kiln_core::diagnostic::{Diagnostic, Position};
use kiln_core::limits::{BUILDSPEC, read_limited};
use serde_json::json;

use crate::input::{read_file, reason};
use crate::print;

/// Arguments of `kiln validate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when every file is valid (warnings allowed), 1 when any file \
    has an error, 2 on a usage error or when a file cannot be read (the other files are still checked)."
)]
pub struct Args {
    /// How to print the result: `text` prints `FILE:LINE:COL: error|warning: MESSAGE` with the
    /// offending line under it, then a summary on stderr; `json` prints one array of
    /// {file, valid, diagnostics: [{severity, line, column, path, message, help}]}.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Buildspec files to check; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
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

/// One file that was read and checked.
struct Checked {
    name: String,
    text: String,
    parsed: Parsed,
}

/// Runs `kiln validate`.
pub fn run(args: &Args) -> ExitCode {
    let mut checked = Vec::new();
    let mut unreadable = 0usize;
    for path in &args.files {
        let (name, bytes) = if path.as_os_str() == "-" {
            ("<stdin>".to_owned(), read_limited(std::io::stdin().lock(), BUILDSPEC))
        } else {
            (path.display().to_string(), read_file(path, BUILDSPEC))
        };
        match bytes {
            Ok(bytes) => checked.push(check(name, bytes)),
            Err(error) => {
                print::note(&format!("kiln validate: cannot read {name}: {}", reason(&error)));
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
    } else if checked.iter().all(|c| c.parsed.is_valid()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn check(name: String, bytes: Vec<u8>) -> Checked {
    match String::from_utf8(bytes) {
        Ok(text) => {
            let parsed = parse(&text);
            Checked { name, text, parsed }
        }
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let valid = &error.as_bytes()[..at];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let diagnostic = Diagnostic::error(
                Position::new(u32::try_from(line).unwrap_or(u32::MAX), 1),
                "",
                "the file is not UTF-8 text",
            );
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            Checked {
                name,
                text,
                parsed: Parsed { buildspec: None, diagnostics: vec![diagnostic] },
            }
        }
    }
}

fn print_text(out: &mut dyn Write, checked: &[Checked]) -> std::io::Result<()> {
    for c in checked {
        for d in &c.parsed.diagnostics {
            writeln!(out, "{}\n", d.render(&c.name, &c.text))?;
        }
    }
    Ok(())
}

fn print_json(out: &mut dyn Write, checked: &[Checked]) -> std::io::Result<()> {
    let files: Vec<serde_json::Value> = checked
        .iter()
        .map(|c| {
            let diagnostics: Vec<serde_json::Value> = c
                .parsed
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
            json!({"file": c.name, "valid": c.parsed.is_valid(), "diagnostics": diagnostics})
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &files)?;
    writeln!(out)
}

/// `kiln validate: 3 files: 2 valid, 1 invalid; 1 error, 4 warnings`.
fn summary(checked: &[Checked], unreadable: usize) -> String {
    let valid = checked.iter().filter(|c| c.parsed.is_valid()).count();
    let errors: usize = checked.iter().map(|c| c.parsed.errors().count()).sum();
    let warnings: usize = checked.iter().map(|c| c.parsed.warnings().count()).sum();
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
