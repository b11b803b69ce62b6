//! Size limits for every input kiln reads, and a reader that enforces one before buffering.
//!
//! Every file, body or stream kiln takes in is read through [`read_limited`], which reads at
//! most one byte more than the limit: `/dev/zero` given as any input fails at once with a
//! message naming the input and its limit, instead of reading until memory runs out.
//!
//! The limits [INF: CodeBuild documents none of them except GitHub's delivery cap] are far
//! above what real inputs need and far below what would hurt a build host:
//! - a buildspec: 4 MiB (the largest real buildspecs, generated build graphs, are a few
//!   hundred KiB);
//! - a project catalog: 16 MiB (thousands of projects);
//! - a delivery body: [`MAX_BODY_BYTES`](crate::webhook::MAX_BODY_BYTES), GitHub's 25 MB cap;
//! - a secrets file: 4 MiB (Secrets Manager values are at most 64 KiB each);
//! - a build description: 32 MiB (it carries the buildspec and the environment).

use std::fmt;
use std::io::Read;

/// A named size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What is limited, for messages: `buildspec`, `project catalog`, ...
    pub what: &'static str,
    /// The most bytes accepted.
    pub bytes: u64,
}

/// A buildspec file (or an inline buildspec).
pub const BUILDSPEC: Limit = Limit { what: "buildspec", bytes: 4 << 20 };

/// A project catalog file.
pub const CATALOG: Limit = Limit { what: "project catalog", bytes: 16 << 20 };

/// A GitHub delivery body: GitHub's own 25 MB cap.
pub const DELIVERY_BODY: Limit =
    Limit { what: "delivery body", bytes: crate::webhook::MAX_BODY_BYTES as u64 };

/// A local secrets file (`kiln run --secrets`).
pub const SECRETS_FILE: Limit = Limit { what: "secrets file", bytes: 4 << 20 };

/// A build description handed to the agent.
pub const BUILD_DESCRIPTION: Limit = Limit { what: "build description", bytes: 32 << 20 };

/// Why an input could not be read within its limit.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// The input has more bytes than the limit allows.
    #[error("the {} is larger than {}", .limit.what, Size(.limit.bytes))]
    TooLarge {
        /// The limit that was exceeded.
        limit: Limit,
    },
    /// Reading failed.
    #[error("read the {}", .limit.what)]
    Read {
        /// The limit of the input being read.
        limit: Limit,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
}

/// Reads all of `reader`, but never more than `limit.bytes + 1` bytes: an input longer than the
/// limit is an error before more of it is buffered.
///
/// # Errors
/// [`LimitError::TooLarge`] when the input is longer than the limit, [`LimitError::Read`]
/// when the reader fails.
pub fn read_limited(reader: impl Read, limit: Limit) -> Result<Vec<u8>, LimitError> {
    let mut out = Vec::new();
    reader
        .take(limit.bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|source| LimitError::Read { limit, source })?;
    if out.len() as u64 > limit.bytes {
        return Err(LimitError::TooLarge { limit });
    }
    Ok(out)
}

/// A byte count in words: `25 MiB`, `512 KiB`, `1000 bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MIB: u64 = 1 << 20;
        const KIB: u64 = 1 << 10;
        match self.0 {
            n if n >= MIB && n % MIB == 0 => write!(f, "{} MiB", n / MIB),
            n if n >= KIB && n % KIB == 0 => write!(f, "{} KiB", n / KIB),
            n => write!(f, "{n} bytes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limit = Limit { what: "test input", bytes: 10 };

    #[test]
    fn reads_up_to_the_limit() {
        assert_eq!(read_limited(&b"0123456789"[..], SMALL).expect("at the limit"), b"0123456789");
        assert_eq!(read_limited(&b""[..], SMALL).expect("empty"), b"");
    }

    #[test]
    fn one_byte_more_is_refused_with_the_limit_named() {
        let err = read_limited(&b"0123456789a"[..], SMALL).expect_err("too large");
        assert_eq!(err.to_string(), "the test input is larger than 10 bytes");
        let big = read_limited(&b"x"[..], Limit { what: "buildspec", bytes: 0 });
        assert!(matches!(big, Err(LimitError::TooLarge { .. })));
    }

    #[test]
    fn an_endless_input_stops_at_the_limit() {
        let err = read_limited(std::io::repeat(0), BUILDSPEC).expect_err("endless");
        assert_eq!(err.to_string(), "the buildspec is larger than 4 MiB");
        let err = read_limited(std::io::repeat(0), DELIVERY_BODY).expect_err("endless");
        assert_eq!(err.to_string(), "the delivery body is larger than 25 MiB");
    }

    #[test]
    fn read_errors_keep_their_source() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let err = read_limited(Broken, SMALL).expect_err("broken");
        assert_eq!(err.to_string(), "read the test input");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(Size(25 << 20).to_string(), "25 MiB");
        assert_eq!(Size(512 << 10).to_string(), "512 KiB");
        assert_eq!(Size(1000).to_string(), "1000 bytes");
    }
}
