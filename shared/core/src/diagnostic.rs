//! Problems found in a user's file: severity, position, YAML path and message.

use std::fmt;

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be used: CodeBuild would fail the build with `YAML_FILE_ERROR`.
    Error,
    /// The file is used, but something in it is probably not what its author meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// A place in a text file: 1-based line and 1-based column, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number, starting at 1, in characters (not bytes).
    pub column: u32,
}

impl Position {
    /// A position from a 1-based line and a 1-based column.
    pub fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where the offending node starts.
    #[serde(flatten)]
    pub position: Position,
    /// The YAML path of the offending node, such as `phases.build.commands[2]`; empty for the
    /// document itself.
    pub path: String,
    /// What is wrong, as one sentence without a trailing period.
    pub message: String,
    /// How to fix it, when kiln knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `position`.
    pub fn error(position: Position, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            position,
            path: path.into(),
            message: message.into(),
            help: None,
        }
    }

    /// A warning at `position`.
    pub fn warning(
        position: Position,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self { severity: Severity::Warning, ..Self::error(position, path, message) }
    }

    /// The same diagnostic with a hint on how to fix it.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this diagnostic makes the file unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The compiler-style line `FILE:LINE:COL: error: MESSAGE`.
    pub fn headline(&self, file: &str) -> String {
        format!("{file}:{}: {}: {}", self.position, self.severity, self.message)
    }

    /// As [`Diagnostic::render`], with the YAML path before the message
    /// (`FILE:LINE:COL: error: PATH: MESSAGE`): for files such as the project catalog whose
    /// messages do not name the field themselves.
    pub fn render_with_path(&self, file: &str, source: &str) -> String {
        if self.path.is_empty() {
            return self.render(file, source);
        }
        Self { message: format!("{}: {}", self.path, self.message), ..self.clone() }
            .render(file, source)
    }

    /// The headline, then the offending source line with a caret under the column, then the
    /// hint, as compilers print them.
    pub fn render(&self, file: &str, source: &str) -> String {
        let mut out = self.headline(file);
        let line_no = self.position.line as usize;
        if let Some(line) = source.lines().nth(line_no.saturating_sub(1)).filter(|_| line_no > 0) {
            let gutter = line_no.to_string();
            let pad = " ".repeat(gutter.len());
            let (shown, before) = excerpt(line, (self.position.column as usize).saturating_sub(1));
            let caret_at: String =
                before.chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            out.push_str(&format!("\n{pad} |\n{gutter} | {shown}\n{pad} | {caret_at}^"));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  = help: {help}"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.position, self.severity, self.message)
    }
}

/// The longest source line shown whole under a diagnostic, in characters.
const MAX_SHOWN: usize = 160;

/// The part of `line` to show under a diagnostic at the 0-based character `column`, and the
/// shown text before the caret. A line longer than [`MAX_SHOWN`] characters (a minified or
/// generated file) is cut to a window around the column, each cut marked with `…`.
fn excerpt(line: &str, column: usize) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= MAX_SHOWN {
        let before = chars.iter().take(column).collect();
        return (line.to_owned(), before);
    }
    let column = column.min(chars.len());
    let start = column.saturating_sub(MAX_SHOWN / 2).min(chars.len() - MAX_SHOWN);
    let end = start + MAX_SHOWN;
    let mark = |cut: bool| if cut { "…" } else { "" };
    let shown: String = chars[start..end].iter().collect();
    let before: String = chars[start..column].iter().collect();
    (
        format!("{}{shown}{}", mark(start > 0), mark(end < chars.len())),
        format!("{}{before}", mark(start > 0)),
    )
}

/// Appends `.key` or `[index]` to a YAML path.
pub fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

/// Appends `[index]` to a YAML path.
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_points_at_the_column() {
        let d = Diagnostic::error(Position::new(2, 5), "phases", "bad thing").with_help("fix it");
        let text = d.render("b.yml", "version: 0.2\nphases: x\n");
        assert_eq!(
            text,
            "b.yml:2:5: error: bad thing\n  |\n2 | phases: x\n  |     ^\n  = help: fix it"
        );
    }

    #[test]
    fn render_with_path_names_the_field() {
        let d = Diagnostic::error(Position::new(1, 7), "projects[0].name", "bad");
        assert_eq!(
            d.render_with_path("c.yml", "name: x"),
            "c.yml:1:7: error: projects[0].name: bad\n  |\n1 | name: x\n  |       ^"
        );
        let top = Diagnostic::error(Position::new(1, 1), "", "bad");
        assert_eq!(top.render_with_path("c.yml", "x"), top.render("c.yml", "x"));
    }

    #[test]
    fn a_long_line_is_cut_around_the_column() {
        let line = format!("a: {}x{}", "[".repeat(1000), "]".repeat(1000));
        let d = Diagnostic::error(Position::new(1, 504), "", "too deep");
        let text = d.render("f", &line);
        let shown: Vec<&str> = text.lines().collect();
        assert_eq!(shown[2], format!("1 | …{}…", "[".repeat(160)));
        assert_eq!(shown[3], format!("  | {}^", " ".repeat(81)));
        let at_start = Diagnostic::error(Position::new(1, 1), "", "x").render("f", &line);
        assert!(
            at_start.lines().nth(2).is_some_and(|l| l.starts_with("1 | a: [[") && l.ends_with('…'))
        );
        let at_end = Diagnostic::error(Position::new(1, 2004), "", "x").render("f", &line);
        assert!(
            at_end.lines().nth(2).is_some_and(|l| l.starts_with("1 | …]]") && l.ends_with(']'))
        );
    }

    #[test]
    fn render_without_a_source_line_is_the_headline() {
        let d = Diagnostic::warning(Position::new(9, 1), "", "w");
        assert_eq!(d.render("f", "one line"), "f:9:1: warning: w");
    }
}
