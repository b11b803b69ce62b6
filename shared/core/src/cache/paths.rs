//! Where the buildspec's `cache.paths` are on disk, how their files are named in a cache
//! archive, and which archive entries a restore may write.
//!
//! Every path is split into a *root*, a directory kiln trusts as declared, and a pattern
//! relative to it that the agent walks (saving) or checks entry by entry (restoring):
//! - a relative path has the source directory as its root (`node_modules/**/*`: root
//!   `CODEBUILD_SRC_DIR`, pattern `node_modules/**/*`), so every directory under the source
//!   is checked, links included; one that leads outside it (`../x`) is refused;
//! - an absolute path (`/root/.m2/**/*`, a real CodeBuild usage; `~/` and `~` stand for
//!   `$HOME`) has its literal, non-glob prefix as its root (`/root/.m2`) and the rest as its
//!   pattern (`**/*`). A path with no glob at all keeps its last segment as the pattern
//!   (`/usr/local/x`: root `/usr/local`, pattern `x`), so a link at that last segment is not
//!   followed [INF]. The root itself is taken as the system resolves it (links in it
//!   included), as the buildspec declares it; `..` in it is resolved lexically.
//!
//! Archive entry names (kept from kiln's first cache format): `s/<path under the source>`
//! and `a/<absolute path without its leading '/'>`. A restore writes an entry only when its
//! name is clean (no empty, `.` or `..` segment) and one of the *current* buildspec's paths
//! selects it, under that path's root; entries saved under other paths (by an older
//! buildspec, another project sharing the namespace, or an attacker) are skipped.

use std::path::{Path, PathBuf};

use crate::artifacts::{Pattern, clean_relative};

/// Where a cache path's root is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheRoot {
    /// The source directory, `CODEBUILD_SRC_DIR`.
    Source,
    /// An absolute directory, written without its leading `/` (`root/.m2`; empty for `/`).
    Absolute(String),
}

/// One usable `cache.paths` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePath {
    /// The path as written in the buildspec.
    pub text: String,
    /// Its root.
    pub root: CacheRoot,
    /// The pattern relative to the root, cleaned.
    pub pattern: Pattern,
}

impl CachePath {
    /// The root directory on disk, for a build whose source directory is `src_dir`.
    pub fn root_dir(&self, src_dir: &Path) -> PathBuf {
        match &self.root {
            CacheRoot::Source => src_dir.to_path_buf(),
            CacheRoot::Absolute(dir) => Path::new("/").join(dir),
        }
    }

    /// The archive entry name of `rel`, a path relative to the root.
    pub fn entry_name(&self, rel: &str) -> String {
        match &self.root {
            CacheRoot::Source => format!("s/{rel}"),
            CacheRoot::Absolute(dir) if dir.is_empty() => format!("a/{rel}"),
            CacheRoot::Absolute(dir) => format!("a/{dir}/{rel}"),
        }
    }
}

/// The buildspec's `cache.paths`, split into roots and patterns (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CachePaths {
    /// The usable paths, in the order written.
    pub paths: Vec<CachePath>,
    /// Paths that lead outside the source directory, as written; they cache nothing.
    pub refused: Vec<String>,
}

impl CachePaths {
    /// Reads `paths`, with `home` (the build's `$HOME`) standing for a leading `~`.
    pub fn new(paths: &[String], home: Option<&str>) -> Self {
        let mut out = Self::default();
        for text in paths {
            let expanded = match (text.as_str(), home) {
                ("~", Some(home)) => home.to_owned(),
                (t, Some(home)) if t.starts_with("~/") => {
                    format!("{}/{}", home.trim_end_matches('/'), &t[2..])
                }
                (t, _) => t.to_owned(),
            };
            match split(&expanded) {
                Some((root, pattern)) => {
                    out.paths.push(CachePath { text: text.clone(), root, pattern })
                }
                None => out.refused.push(text.clone()),
            }
        }
        out
    }

    /// Where the archive entry `name` is restored: the index of the first path that selects
    /// it and its path relative to that path's root. `None` for any other name.
    pub fn locate<'n>(&self, name: &'n str) -> Option<(usize, &'n str)> {
        let (kind, rest) = name.split_once('/')?;
        if rest.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return None;
        }
        self.paths.iter().enumerate().find_map(|(i, path)| {
            let rel = match (&path.root, kind) {
                (CacheRoot::Source, "s") => rest,
                (CacheRoot::Absolute(dir), "a") if dir.is_empty() => rest,
                (CacheRoot::Absolute(dir), "a") => {
                    rest.strip_prefix(dir.as_str())?.strip_prefix('/')?
                }
                _ => return None,
            };
            path.pattern.selects(rel).then_some((i, rel))
        })
    }
}

/// The root and pattern of one expanded path, or `None` when it leads outside.
fn split(text: &str) -> Option<(CacheRoot, Pattern)> {
    let Some(absolute) = text.strip_prefix('/') else {
        return clean_relative(text).map(|clean| (CacheRoot::Source, Pattern::new(&clean)));
    };
    let clean = clean_relative(absolute)?;
    let segments: Vec<&str> = clean.split('/').filter(|s| !s.is_empty()).collect();
    let literal = segments.iter().take_while(|s| !s.contains(['*', '?', '[', '\\'])).count();
    let cut = if literal == segments.len() { literal.saturating_sub(1) } else { literal };
    Some((CacheRoot::Absolute(segments[..cut].join("/")), Pattern::new(&segments[cut..].join("/"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(v: &[&str]) -> CachePaths {
        let v: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
        CachePaths::new(&v, Some("/home/me/"))
    }

    #[test]
    fn roots_are_the_source_or_the_literal_prefix() {
        let p = paths(&["node_modules", "/root/.m2/**/*", "~/.npm", "/usr/local/x", "/", "../up"]);
        let got: Vec<(CacheRoot, &str)> =
            p.paths.iter().map(|c| (c.root.clone(), c.pattern.as_str())).collect();
        assert_eq!(
            got,
            [
                (CacheRoot::Source, "node_modules"),
                (CacheRoot::Absolute("root/.m2".into()), "**/*"),
                (CacheRoot::Absolute("home/me".into()), ".npm"),
                (CacheRoot::Absolute("usr/local".into()), "x"),
                (CacheRoot::Absolute(String::new()), ""),
            ]
        );
        assert_eq!(p.refused, ["../up"]);
        assert_eq!(p.paths[1].root_dir(Path::new("/src")), PathBuf::from("/root/.m2"));
        assert_eq!(p.paths[1].entry_name("repo/a.jar"), "a/root/.m2/repo/a.jar");
        assert_eq!(p.paths[0].entry_name("node_modules/x"), "s/node_modules/x");
    }

    #[test]
    fn only_clean_names_under_a_current_path_are_restored() {
        let p = paths(&[".cache/**/*", "node_modules", "/root/.m2/**/*"]);
        assert_eq!(p.locate("s/.cache/x"), Some((0, ".cache/x")));
        assert_eq!(p.locate("s/node_modules/a/b.js"), Some((1, "node_modules/a/b.js")));
        assert_eq!(p.locate("a/root/.m2/repo/x.jar"), Some((2, "repo/x.jar")));
        for hostile in [
            "s/src/main.js",
            "s/node_modules/../../etc/passwd",
            "s/.cache/./x",
            "s//.cache/x",
            "a/root/.m22/x",
            "a/etc/passwd",
            "a/root/.m2",
            "x/.cache/x",
            "s",
            "s/",
        ] {
            assert_eq!(p.locate(hostile), None, "{hostile}");
        }
    }
}
