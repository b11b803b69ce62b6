//! Buildspecs: the typed model, a parser that keeps positions, and validation.

mod model;
mod parse;

pub use model::*;
pub use parse::{Parsed, parse};
