//! One environment variable as CodeBuild's API writes it: `{"name", "value"}`.

use serde::{Deserialize, Serialize};

/// A variable: `environmentVariablesOverride`, `exportedEnvironmentVariables`, the
/// `CODEBUILD_WEBHOOK_*` variables of a delivery. The one name/value type of kiln.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

impl NameValue {
    /// A variable `name` = `value`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into() }
    }
}

/// The value of the last variable called `name` in `vars` (later entries win, as in an
/// environment built layer by layer).
pub fn lookup<'a>(vars: &'a [NameValue], name: &str) -> Option<&'a str> {
    vars.iter().rev().find(|v| v.name == name).map(|v| v.value.as_str())
}
