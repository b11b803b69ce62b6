//! Reading a buildspec text into the typed model, with every problem found at once; see
//! [`parse`] for the rules where CodeBuild's behaviour is not documented.

mod batch;
mod env;
mod outputs;
mod phases;
mod reader;
mod top;

pub use top::{Parsed, parse};

#[cfg(test)]
mod tests;
