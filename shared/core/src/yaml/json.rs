//! JSON texts read through the YAML reader: telling them from YAML, and naming them JSON in
//! diagnostics.
//!
//! A catalog or a buildspec may be written in JSON (`aws codebuild batch-get-projects` prints
//! JSON), and JSON is YAML, so one reader serves both. A user who wrote JSON must still be told
//! about JSON: a text whose first character (after blanks and a byte order mark) opens an
//! object or array is JSON when serde_json reads it whole. [INF: a text that opens like JSON
//! but that serde_json refuses is read as YAML when the YAML reader takes it (flow-style YAML,
//! or JSON with a trailing comma, which YAML allows); when both refuse it, serde_json's error is
//! the one shown, at its line and column, since the author evidently meant JSON.]

use serde::de::IgnoredAny;

use crate::diagnostic::{Diagnostic, Position};

/// The syntax a text is written in, as diagnostics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Syntax {
    /// YAML (block or flow style).
    #[default]
    Yaml,
    /// JSON: the text opens an object or array and serde_json reads it whole.
    Json,
}

impl Syntax {
    /// `YAML` or `JSON`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Yaml => "YAML",
            Self::Json => "JSON",
        }
    }
}

/// The text without a leading byte order mark.
fn body(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Whether the first character of `text` other than blanks opens a JSON object or array.
pub(super) fn opens_like_json(text: &str) -> bool {
    matches!(body(text).trim_start().chars().next(), Some('{' | '['))
}

/// serde_json's verdict on `text` as one JSON value.
pub(super) fn check(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<IgnoredAny>(body(text)).map(|_| ())
}

/// Whether serde_json refused the text only for nesting too deep, which the YAML reader's own
/// bound reports with kiln's message.
pub(super) fn too_deep(error: &serde_json::Error) -> bool {
    error.to_string().starts_with("recursion limit exceeded")
}

/// serde_json's error as a diagnostic at its line and column (in characters):
/// `invalid JSON: expected `,` or `}``.
pub(super) fn diagnostic(text: &str, error: &serde_json::Error) -> Diagnostic {
    let full = error.to_string();
    let what = full.rfind(" at line ").map_or(full.as_str(), |at| &full[..at]);
    let lines: Vec<&str> = body(text).lines().collect();
    let (line, column) = match lines.get(error.line().max(1) - 1) {
        Some(l) => (error.line().max(1), char_column(l, error.column())),
        // An end of file after the last newline: the end of the last line.
        None => (lines.len().max(1), lines.last().map_or(1, |l| l.chars().count() + 1)),
    };
    let at = Position::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    );
    Diagnostic::error(at, "", format!("invalid JSON: {what}"))
}

/// The 1-based character column of serde_json's 1-based byte column on `line`.
fn char_column(line: &str, byte_column: usize) -> usize {
    let end = byte_column.saturating_sub(1).min(line.len());
    let end = (0..=end).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
    line[..end].chars().count() + 1
}

/// A diagnostic of the YAML reader about a JSON text, naming JSON: `invalid YAML: …` becomes
/// `invalid JSON: …`.
pub(super) fn renamed(mut d: Diagnostic) -> Diagnostic {
    if let Some(rest) = d.message.strip_prefix("invalid YAML") {
        d.message = format!("invalid JSON{rest}");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_are_placed_in_characters() {
        let text = "{\n  \"é\": 1,\n  \"b\" 2\n}";
        let e = check(text).expect_err("invalid");
        let d = diagnostic(text, &e);
        assert_eq!(d.message, "invalid JSON: expected `:`");
        assert_eq!(d.position, Position::new(3, 7));
        let d = diagnostic("[1, 2", &check("[1, 2").expect_err("eof"));
        assert_eq!(d.message, "invalid JSON: EOF while parsing a list");
        assert_eq!(d.position, Position::new(1, 5), "at the last character read");
        let text = "{\"a\": [1,\n  2\n";
        let d = diagnostic(text, &check(text).expect_err("eof"));
        assert_eq!(d.position, Position::new(2, 4), "after the end of the last line");
    }

    #[test]
    fn only_text_that_opens_an_object_or_array_may_be_json() {
        assert!(opens_like_json("\u{feff}  \n{\"a\": 1}"));
        assert!(opens_like_json("[1]"));
        assert!(!opens_like_json("a: {b: 1}"));
        assert!(!opens_like_json("# {\n"));
    }
}
