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
            let caret_at: String = line
                .chars()
                .take((self.position.column as usize).saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("\n{pad} |\n{gutter} | {line}\n{pad} | {caret_at}^"));
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
    fn render_without_a_source_line_is_the_headline() {
        let d = Diagnostic::warning(Position::new(9, 1), "", "w");
        assert_eq!(d.render("f", "one line"), "f:9:1: warning: w");
    }
}
