//! A YAML document as a tree of nodes that each know where they start in the source.
//!
//! kiln reads buildspecs and project catalogs through this tree so that every diagnostic
//! can name a line and a column. Scalars keep their text and quoting style; what a plain
//! scalar *means* (null, boolean, number, string) is decided by the reader with YAML 1.1
//! rules, because that is how CodeBuild reads buildspecs (`yes`/`no`/`on`/`off` are
//! booleans). Anchors and aliases are resolved and `<<` merge keys are applied while the
//! tree is built; custom tags (`!join`, `!Ref`) are kept but otherwise ignored.
//!
//! JSON is read through the same tree (JSON is YAML); a JSON text's diagnostics call it JSON
//! ([`Syntax`]).
//!
//! The tree is bounded (see [`parse()`]): nesting depth, node count and the text that aliases
//! expand to, so a hostile text is a `line:col` error rather than a stack overflow or an
//! exhausted memory.

mod json;
mod node;
mod parse;

pub use json::Syntax;
pub use node::{Entry, Node, Resolved, Scalar, Value, format_float_like_go, resolve_plain};
pub use parse::{Document, MAX_DEPTH, MAX_EXPANDED_BYTES, MAX_NODES, parse};
