//! [`SecretStore`] over a local file of `NAME=VALUE` lines (`kiln run --secrets FILE`).
//!
//! Each line names an SSM parameter or a Secrets Manager secret id, an `=`, and the value up to
//! the end of the line, taken literally. Blank lines and lines starting with `#` are skipped.
//! Version stages and ids are ignored: a local file has one version of each secret.

use std::collections::BTreeMap;
use std::path::Path;

use kiln_core::ports::{PortError, PortErrorKind, PortFuture, SecretStore};

/// A secrets file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsFileError {
    /// The file could not be read.
    #[error("read secrets file {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line has no `=`.
    #[error("secrets file {path}:{line}: expected NAME=VALUE")]
    Syntax {
        /// The file.
        path: String,
        /// The 1-based line number.
        line: usize,
    },
}

/// Secrets from a `NAME=VALUE` file.
#[derive(Default)]
pub struct FileSecretStore {
    values: BTreeMap<String, String>,
}

impl std::fmt::Debug for FileSecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSecretStore")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl FileSecretStore {
    /// Whether the file has a value for `name` (a parameter name or a secret id).
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// An empty store: every lookup is `NotFound`.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads `path`.
    pub fn open(path: &Path) -> Result<Self, SecretsFileError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| SecretsFileError::Read { path: display.clone(), source })?;
        Self::parse(&text).map_err(|line| SecretsFileError::Syntax { path: display, line })
    }

    /// Reads the text of a secrets file; the error is the 1-based number of a line without `=`.
    pub fn parse(text: &str) -> Result<Self, usize> {
        let mut values = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let (name, value) = line.split_once('=').ok_or(index + 1)?;
            values.insert(name.trim().to_owned(), value.to_owned());
        }
        Ok(Self { values })
    }

    fn lookup(&self, what: &str, name: &str) -> Result<String, PortError> {
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| PortError::new(PortErrorKind::NotFound, format!("get {what} {name}")))
    }
}

impl SecretStore for FileSecretStore {
    fn get_parameter<'a>(&'a self, name: &'a str) -> PortFuture<'a, String> {
        Box::pin(async move { self.lookup("parameter", name) })
    }

    fn get_secret<'a>(
        &'a self,
        secret_id: &'a str,
        _version_stage: Option<&'a str>,
        _version_id: Option<&'a str>,
    ) -> PortFuture<'a, String> {
        Box::pin(async move { self.lookup("secret", secret_id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let store = FileSecretStore::parse("# c\n\n/app/db=p=ss word\nmy-secret={\"k\":\"v\"}\n")
            .unwrap_or_default();
        assert_eq!(store.lookup("parameter", "/app/db").ok().as_deref(), Some("p=ss word"));
        assert!(store.lookup("secret", "my-secret").is_ok());
        let missing = store.lookup("parameter", "nope").err();
        assert_eq!(
            missing.map(|e| (e.kind, e.to_string())),
            Some((PortErrorKind::NotFound, "get parameter nope: not found".into()))
        );
        assert_eq!(FileSecretStore::parse("a=1\nbad\n").err(), Some(2));
        assert!(!format!("{store:?}").contains("p=ss"));
    }
}
