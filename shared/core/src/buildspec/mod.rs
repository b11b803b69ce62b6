//! Buildspecs: the typed model, a parser that keeps positions, and validation.

pub mod keys;
mod model;
mod parse;
pub mod schema;
pub(crate) mod suggest;

pub use model::*;
pub use parse::{Parsed, parse};
