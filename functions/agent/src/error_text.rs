//! One line of text for an error and its causes (the core's [`kiln_core::error_chain`]).

pub use kiln_core::error_chain;
