//! Reading a buildspec text into [`Buildspec`], with every problem found at once.

use crate::diagnostic::{Diagnostic, Position};

use super::model::Buildspec;

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
}

/// Reads a buildspec text.
pub fn parse(text: &str) -> Parsed {
    let _ = text;
    Parsed {
        buildspec: None,
        diagnostics: vec![Diagnostic::error(
            Position::new(1, 1),
            "",
            "the buildspec parser is being written",
        )],
    }
}
