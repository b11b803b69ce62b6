//! [`SecretStore`] over a local file of `NAME=VALUE` lines (`kiln run --secrets FILE`).
//!
//! Each line names an SSM parameter or a Secrets Manager secret id, an `=`, and the value.
//! Spaces and tabs around the name and around the value are dropped, so `db = s3cret` and
//! `db=s3cret` say the same. A value that needs spaces at its ends (or that itself starts and
//! ends with a quote) is quoted: `db = "  s3cret  "` or `db = '"quoted"'`; what is between the
//! quotes is taken literally, with no escapes [INF: the dotenv convention, minus escapes, so a
//! value never changes by being read]. An `=` inside the value is kept (`a=b=c` is `b=c`).
//! Blank lines and lines starting with `#` are skipped. Version stages and ids are ignored: a
//! local file has one version of each secret.
//!
//! The file is read with the [`SECRETS_FILE`] size limit before anything is buffered, so a
//! device or a runaway file is refused at once.

use std::collections::BTreeMap;
use std::path::Path;

use kiln_core::limits::{LimitError, SECRETS_FILE, Size, read_limited};
use kiln_core::ports::{PortError, PortErrorKind, PortFuture, SecretStore};

/// A secrets file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsFileError {
    /// The file could not be opened or read.
    #[error("read secrets file {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`SECRETS_FILE`] allows.
    #[error("secrets file {path} is larger than {}", Size(SECRETS_FILE.bytes))]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The file is not UTF-8 text.
    #[error("secrets file {path} is not UTF-8 text")]
    NotUtf8 {
        /// The file.
        path: String,
    },
    /// A line has no `=`, no name, or an unclosed quote.
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

    /// Reads `path`, at most [`SECRETS_FILE`] bytes of it.
    ///
    /// # Errors
    /// [`SecretsFileError`] when the file cannot be read, is too large, is not UTF-8 or has a
    /// line that is not `NAME=VALUE`.
    pub fn open(path: &Path) -> Result<Self, SecretsFileError> {
        let display = path.display().to_string();
        let read_error = |source| SecretsFileError::Read { path: display.clone(), source };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let bytes = read_limited(file, SECRETS_FILE).map_err(|e| match e {
            LimitError::TooLarge { .. } => SecretsFileError::TooLarge { path: display.clone() },
            LimitError::Read { source, .. } => read_error(source),
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| SecretsFileError::NotUtf8 { path: display.clone() })?;
        Self::parse(&text).map_err(|line| SecretsFileError::Syntax { path: display, line })
    }

    /// Reads the text of a secrets file (see the module documentation for the format).
    ///
    /// # Errors
    /// The 1-based number of the first line that is not `NAME=VALUE`: no `=`, an empty name,
    /// or a quoted value whose quote is not closed at the end of the line.
    pub fn parse(text: &str) -> Result<Self, usize> {
        let mut values = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let (name, value) = line.split_once('=').ok_or(index + 1)?;
            let name = name.trim_matches([' ', '\t']);
            if name.is_empty() {
                return Err(index + 1);
            }
            let value = unquote(value.trim_matches([' ', '\t'])).ok_or(index + 1)?;
            values.insert(name.to_owned(), value.to_owned());
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

/// A value without its quotes, when it is quoted; `None` for a quote opened and not closed.
fn unquote(value: &str) -> Option<&str> {
    let Some(quote) = value.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
        return Some(value);
    };
    let inner = &value[1..];
    inner.strip_suffix(quote).filter(|_| !inner.is_empty())
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

    fn value(text: &str, name: &str) -> Option<String> {
        FileSecretStore::parse(text).ok()?.lookup("secret", name).ok()
    }

    #[test]
    fn spaces_around_the_equals_sign_are_dropped() {
        assert_eq!(value("db = s3cret\n", "db").as_deref(), Some("s3cret"));
        assert_eq!(value("\tdb\t=\ts3cret \t\r\n", "db").as_deref(), Some("s3cret"));
        assert_eq!(value("db=s3 cr et\n", "db").as_deref(), Some("s3 cr et"));
        assert_eq!(value("db = a=b \n", "db").as_deref(), Some("a=b"));
        assert_eq!(value("db =\n", "db").as_deref(), Some(""));
    }

    #[test]
    fn quotes_keep_what_is_between_them() {
        assert_eq!(value("db = \"  padded  \"\n", "db").as_deref(), Some("  padded  "));
        assert_eq!(value("db = '\"quoted\"'\n", "db").as_deref(), Some("\"quoted\""));
        assert_eq!(value("db = \"a\\nb\"\n", "db").as_deref(), Some("a\\nb"));
        assert_eq!(value("db = \"\"\n", "db").as_deref(), Some(""));
        assert_eq!(value("json = {\"k\": \"v\"}\n", "json").as_deref(), Some("{\"k\": \"v\"}"));
        assert_eq!(FileSecretStore::parse("db = \"open\n").err(), Some(1));
        assert_eq!(FileSecretStore::parse("db = \"\n").err(), Some(1));
        assert_eq!(FileSecretStore::parse(" = value\n").err(), Some(1));
    }

    #[test]
    fn the_file_is_read_with_a_size_limit() {
        let err = FileSecretStore::open(Path::new("/dev/zero")).expect_err("endless");
        assert_eq!(err.to_string(), "secrets file /dev/zero is larger than 4 MiB");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secrets");
        std::fs::write(&path, b"db = \xff\n").expect("write");
        let err = FileSecretStore::open(&path).expect_err("not utf-8");
        assert!(err.to_string().ends_with("is not UTF-8 text"), "{err}");
        std::fs::write(&path, b"# local\ndb = s3cret\n").expect("write");
        let store = FileSecretStore::open(&path).expect("a small file");
        assert_eq!(store.lookup("secret", "db").ok().as_deref(), Some("s3cret"));
        let missing = FileSecretStore::open(&dir.path().join("none")).expect_err("missing");
        assert!(matches!(missing, SecretsFileError::Read { .. }));
    }
}
