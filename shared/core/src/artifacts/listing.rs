//! What the agent found on disk, as the pure selection reads it, and what the selection
//! refused to read.
//!
//! The agent walks a root (the source directory, or the literal prefix of an absolute cache
//! path) without following links and lists every entry the selection may want, with paths
//! relative to the root. For each link it says where the link leads *physically* (resolved
//! by the file system: inside the root or not), which decides whether a link may be
//! followed; whether a link may be *kept* as a link is decided lexically by the core
//! ([`super::link_stays_inside`]). A link to a directory inside the root that the walk
//! followed is listed as a [`ListedKind::Dir`], its contents under the link's path.

use std::fmt;
use std::path::PathBuf;

/// One entry under the walk root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The path relative to the root, `/`-separated, with no empty, `.` or `..` segment.
    pub path: String,
    /// Where the entry is on disk (for a followed link's contents, under the link's target).
    pub source: PathBuf,
    /// What it is.
    pub kind: ListedKind,
}

/// What a listed entry is. Other kinds (devices, fifos, sockets) are never listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedKind {
    /// A regular file.
    File,
    /// A directory (or a followed link to one inside the root).
    Dir,
    /// A symbolic link that was not followed.
    Link {
        /// Its target as written.
        target: PathBuf,
        /// Where it leads.
        leads: LinkLeads,
    },
}

/// Where a link leads once the file system resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkLeads {
    /// To a regular file inside the root, at this resolved path.
    File(PathBuf),
    /// To a directory inside the root that the walk did not follow (a loop, or a link met
    /// inside a followed one).
    Dir,
    /// Out of the root.
    Outside,
    /// To nothing kiln reads: missing, or neither a file nor a directory.
    Nowhere,
}

/// Something the selection did not read, and why (the agent logs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The path or pattern as written (for a link, its listed path).
    pub path: String,
    /// Why.
    pub reason: RefusedReason,
}

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedReason {
    /// A `files` pattern leads outside the root.
    FileOutside,
    /// The `base-directory` leads outside the root.
    BaseOutside,
    /// An `exclude-paths` pattern leads outside the base; it excludes nothing.
    ExcludeOutside,
    /// A link out of the root: neither followed nor kept.
    LinkOutside,
    /// A link to a directory the walk did not follow.
    LinkNotFollowed,
    /// A link to nothing kiln reads.
    LinkNowhere,
}

impl fmt::Display for Refused {
    /// A lowercase sentence fragment naming the path (control characters escaped, since a
    /// file name may hold any) and why it was refused.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path: String = self
            .path
            .chars()
            .flat_map(|c| {
                let escaped: Vec<char> =
                    if c.is_control() { c.escape_debug().collect() } else { vec![c] };
                escaped
            })
            .collect();
        match self.reason {
            RefusedReason::FileOutside => {
                write!(f, "skipping {path}: it leads outside the directory it is read from")
            }
            RefusedReason::BaseOutside => write!(
                f,
                "skipping base-directory {path}: it leads outside the directory it is read from"
            ),
            RefusedReason::ExcludeOutside => {
                write!(f, "skipping exclude path {path}: it leads outside the base directory")
            }
            RefusedReason::LinkOutside => write!(
                f,
                "skipping {path}: it is a link that leads outside the directory it is read from"
            ),
            RefusedReason::LinkNotFollowed => write!(
                f,
                "skipping {path}: it is a link to a directory that is not followed (a loop, or a link inside a linked directory)"
            ),
            RefusedReason::LinkNowhere => {
                write!(f, "skipping {path}: it is a link to nothing that can be read")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_path_with_control_characters_escaped() {
        let r = Refused { path: "a\nb".into(), reason: RefusedReason::LinkOutside };
        assert_eq!(
            r.to_string(),
            "skipping a\\nb: it is a link that leads outside the directory it is read from"
        );
    }
}
