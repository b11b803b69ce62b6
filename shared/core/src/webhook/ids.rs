//! Identifiers of GitHub deliveries, validated when they are built: repository, commit, delivery.

use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not `owner/name` with GitHub's characters.
    #[error("invalid repository name {0:?}: expected owner/name")]
    RepoFullName(String),
    /// Not 40 hexadecimal digits.
    #[error("invalid commit sha {0:?}: expected 40 hexadecimal digits")]
    CommitSha(String),
    /// Empty, too long, or with characters other than letters, digits, `-` and `_`.
    #[error("invalid delivery id {0:?}")]
    DeliveryId(String),
    /// A ref, branch or tag name with a NUL or another control character, which git never
    /// allows and which would break every command that is given it.
    #[error("invalid ref name {0:?}: it contains a NUL or another control character")]
    RefName(String),
}

/// Checks a ref, branch or tag name from a payload: git refuses control characters in ref
/// names (`git check-ref-format`), so one that holds any is forged, and a NUL would break every
/// command of the build that is given it (`CODEBUILD_WEBHOOK_HEAD_REF`, ...).
///
/// # Errors
/// [`IdError::RefName`] when `name` holds a control character.
pub fn check_ref_name(name: String) -> Result<String, IdError> {
    if name.chars().any(char::is_control) {
        return Err(IdError::RefName(name));
    }
    Ok(name)
}

fn repo_part_ok(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 100
        && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A repository as `owner/name`. Compared without regard to case, as GitHub does.
#[derive(Debug, Clone, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoFullName {
    text: String,
    lower: String,
}

impl RepoFullName {
    /// Checks `text` is `owner/name` with GitHub's characters (letters, digits, `-`, `_`, `.`).
    ///
    /// # Errors
    /// [`IdError::RepoFullName`] otherwise.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        match text.split_once('/') {
            Some((owner, name)) if repo_part_ok(owner) && repo_part_ok(name) => {
                Ok(Self { text: text.to_owned(), lower: text.to_ascii_lowercase() })
            }
            _ => Err(IdError::RepoFullName(text.to_owned())),
        }
    }

    /// The name as GitHub spells it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name in lower case, the form kiln compares and indexes.
    pub fn key(&self) -> &str {
        &self.lower
    }

    /// The owner (user or organization).
    pub fn owner(&self) -> &str {
        self.text.split_once('/').map_or("", |(o, _)| o)
    }

    /// The repository name without its owner.
    pub fn name(&self) -> &str {
        self.text.split_once('/').map_or("", |(_, n)| n)
    }
}

macro_rules! string_conversions {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                Self::parse(&text)
            }
        }

        impl From<$t> for String {
            fn from(id: $t) -> String {
                id.as_str().to_owned()
            }
        }
    };
}

string_conversions!(RepoFullName);
string_conversions!(CommitSha);
string_conversions!(DeliveryId);

impl PartialEq for RepoFullName {
    fn eq(&self, other: &Self) -> bool {
        self.lower == other.lower
    }
}

impl fmt::Display for RepoFullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A full commit SHA-1: 40 hexadecimal digits, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommitSha(String);

impl CommitSha {
    /// Checks `text` is 40 hexadecimal digits.
    ///
    /// # Errors
    /// [`IdError::CommitSha`] otherwise.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        if text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(IdError::CommitSha(text.to_owned()))
        }
    }

    /// The 40 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is GitHub's "no commit" value (40 zeros), as in the `after` of a push
    /// that deletes a ref.
    pub fn is_zero(&self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `X-GitHub-Delivery` header: a GUID GitHub gives each delivery (redeliveries keep it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeliveryId(String);

impl DeliveryId {
    /// Checks `text` is 1 to 128 letters, digits, `-` or `_`.
    ///
    /// # Errors
    /// [`IdError::DeliveryId`] otherwise.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let ok = !text.is_empty()
            && text.len() <= 128
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if ok { Ok(Self(text.to_owned())) } else { Err(IdError::DeliveryId(text.to_owned())) }
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names_compare_without_case() {
        let a = RepoFullName::parse("Codertocat/Hello-World").expect("valid");
        let b = RepoFullName::parse("codertocat/hello-world").expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.owner(), "Codertocat");
        assert_eq!(a.name(), "Hello-World");
        assert_eq!(a.key(), "codertocat/hello-world");
        for bad in ["", "a", "/b", "a/", "a/b/c", "a b/c"] {
            assert!(RepoFullName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commit_shas_are_40_hex_digits() {
        let sha = CommitSha::parse(&"A".repeat(40)).expect("valid");
        assert_eq!(sha.as_str(), "a".repeat(40));
        assert!(!sha.is_zero());
        assert!(CommitSha::parse(&"0".repeat(40)).expect("valid").is_zero());
        assert!(CommitSha::parse("abc").is_err());
        assert!(CommitSha::parse(&"g".repeat(40)).is_err());
    }

    #[test]
    fn delivery_ids_are_guid_like() {
        assert!(DeliveryId::parse("72d3162e-cc78-11e3-81ab-4c9367dc0958").is_ok());
        assert!(DeliveryId::parse("").is_err());
        assert!(DeliveryId::parse("a\nb").is_err());
    }
}
