//! Listing a tree for a selection: the only place UPLOAD_ARTIFACTS, reports, the cache save
//! and `codebuild-hash-files` look at the file system to decide what to read.
//!
//! The walk (walkdir, sorted by name, depth first) starts at a root kiln trusts (the source
//! directory, or an absolute cache path's literal prefix) and never follows a link while
//! walking; it only looks inside the directories the [`Selector`] may select from, and stops
//! after [`MAX_ENTRIES`] entries with a warning. Each link is resolved once by the file
//! system (`canonicalize`) to learn whether it leads inside the root. A link to a directory
//! inside is walked in place (its contents listed under the link's path) when the selector
//! follows it, unless it leads to the link's own directory or above (a loop); links met
//! inside a followed directory are listed but not followed in turn [INF].
//!
//! Reading: files are opened with `O_NOFOLLOW | O_NONBLOCK` and must be regular files
//! ([`open_regular`]), so a file replaced by a link or a fifo after the walk is refused, not
//! followed or waited on. The walk runs after the build's phases; a process the build left
//! running could still swap a directory for a link between the walk and the read, which
//! `std` cannot rule out without `openat2`; kiln then reads what the swapped path names
//! [INF].

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use kiln_core::artifacts::{LinkLeads, Listed, ListedKind, Selected, Selection, Selector};
use walkdir::WalkDir;

/// The most entries one walk lists [INF]; past it, the walk stops and says so.
pub const MAX_ENTRIES: usize = 2_000_000;

/// What a walk found.
#[derive(Debug, Default)]
pub struct Listing {
    /// The entries, in walk order.
    pub entries: Vec<Listed>,
    /// What could not be read while walking (never fatal).
    pub problems: Vec<walkdir::Error>,
    /// Whether the walk stopped at [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// A selection made under one root.
#[derive(Debug, Default)]
pub struct Found {
    /// What was selected.
    pub selected: Selected,
    /// What could not be read while walking.
    pub problems: Vec<walkdir::Error>,
    /// Whether the walk stopped at [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// Walks `root` for `selection` and selects from what it lists.
pub fn find(root: &Path, selection: &Selection<'_>) -> Found {
    let selector = Selector::new(selection);
    let listing = list(root, &selector);
    Found {
        selected: selector.select(&listing.entries),
        problems: listing.problems,
        truncated: listing.truncated,
    }
}

/// Lists what `selector` may want under `root` (see the module docs). A missing root lists
/// nothing.
pub fn list(root: &Path, selector: &Selector) -> Listing {
    let mut out = Listing::default();
    let Ok(canonical) = root.canonicalize() else { return out };
    if selector.wants_dir("") {
        let mut walk = Walk { out: &mut out, canonical: &canonical, selector };
        walk.dir(root, "", true);
    }
    out
}

struct Walk<'a> {
    out: &'a mut Listing,
    canonical: &'a Path,
    selector: &'a Selector,
}

impl Walk<'_> {
    /// Lists the contents of `dir` with paths under `prefix`; follows directory links only
    /// when `follow`.
    fn dir(&mut self, dir: &Path, prefix: &str, follow: bool) {
        let mut it =
            WalkDir::new(dir).min_depth(1).follow_links(false).sort_by_file_name().into_iter();
        while let Some(next) = it.next() {
            let entry = match next {
                Ok(e) => e,
                Err(e) => {
                    self.out.problems.push(e);
                    continue;
                }
            };
            if self.out.entries.len() >= MAX_ENTRIES {
                self.out.truncated = true;
                return;
            }
            let Ok(rel) = entry.path().strip_prefix(dir) else { continue };
            let rel = rel.to_string_lossy();
            let path = if prefix.is_empty() { rel.into_owned() } else { format!("{prefix}/{rel}") };
            let file_type = entry.file_type();
            let source = entry.path().to_path_buf();
            if file_type.is_dir() {
                if self.selector.wants_dir(&path) {
                    self.out.entries.push(Listed { path, source, kind: ListedKind::Dir });
                } else {
                    it.skip_current_dir();
                }
            } else if file_type.is_file() {
                self.out.entries.push(Listed { path, source, kind: ListedKind::File });
            } else if file_type.is_symlink() {
                self.link(path, source, follow);
            }
        }
    }

    fn link(&mut self, path: String, source: PathBuf, follow: bool) {
        // A link that vanished since the directory was read is not listed.
        let Ok(target) = std::fs::read_link(&source) else { return };
        let resolved =
            std::fs::canonicalize(&source).ok().filter(|p| p.starts_with(self.canonical));
        let leads = match &resolved {
            None if source.exists() => LinkLeads::Outside,
            None => LinkLeads::Nowhere,
            Some(p) => match std::fs::metadata(p) {
                Ok(m) if m.is_file() => LinkLeads::File(p.clone()),
                Ok(m) if m.is_dir() => LinkLeads::Dir,
                _ => LinkLeads::Nowhere,
            },
        };
        if let (LinkLeads::Dir, Some(physical)) = (&leads, &resolved) {
            let parent = match path.rsplit_once('/') {
                Some((parent, _)) => self.canonical.join(parent),
                None => self.canonical.to_path_buf(),
            };
            let walkable = follow
                && !parent.starts_with(physical)
                && self.selector.follows_dir_link(&path)
                && self.selector.wants_dir(&path);
            if walkable {
                let physical = physical.clone();
                self.out.entries.push(Listed {
                    path: path.clone(),
                    source: physical.clone(),
                    kind: ListedKind::Dir,
                });
                self.dir(&physical, &path, false);
                return;
            }
        }
        self.out.entries.push(Listed { path, source, kind: ListedKind::Link { target, leads } });
    }
}

/// Logs what a selection refused and what its walk could not read: `Warning: <context>...`
/// (`context` is `report <name>: `, `cache: ` or empty).
pub(crate) fn log_found(found: &Found, context: &str, log: &mut (dyn FnMut(String) + Send + '_)) {
    for refused in &found.selected.refused {
        log(format!("Warning: {context}{refused}"));
    }
    for problem in &found.problems {
        log(format!("Warning: {context}cannot read {problem}"));
    }
    if found.truncated {
        log(format!("Warning: {context}stopped listing files after {MAX_ENTRIES} entries"));
    }
}

/// Opens `path` for reading if it is a regular file, never following a link at its last
/// component and never blocking on a fifo.
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use kiln_core::artifacts::{EntryKind, RefusedReason};

    use super::*;

    fn tree(root: &Path, files: &[&str]) {
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, f.as_bytes()).expect("write");
        }
    }

    fn all() -> Vec<String> {
        vec!["**/*".to_owned()]
    }

    #[test]
    fn links_out_of_the_root_are_never_walked_or_read() {
        let dir = tempfile::tempdir().expect("dir");
        let (src, outside) = (dir.path().join("src"), dir.path().join("outside"));
        tree(&src, &["a.txt", "v2/app.js"]);
        tree(&outside, &["secret"]);
        symlink(&outside, src.join("root")).expect("link");
        symlink("../outside/secret", src.join("up")).expect("link");
        symlink("v2", src.join("current")).expect("link");
        symlink(".", src.join("v2/loop")).expect("link");
        symlink("..", src.join("v2/parent")).expect("link");
        symlink("missing", src.join("dangling")).expect("link");
        let files = all();
        let found = find(&src, &Selection { files: &files, ..Default::default() });
        let paths: Vec<&str> = found.selected.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.txt", "current/app.js", "v2/app.js"]);
        let mut refused: Vec<(&str, RefusedReason)> =
            found.selected.refused.iter().map(|r| (r.path.as_str(), r.reason)).collect();
        refused.sort_by_key(|(path, _)| *path);
        assert_eq!(
            refused,
            [
                ("current/loop", RefusedReason::LinkNotFollowed),
                ("current/parent", RefusedReason::LinkNotFollowed),
                ("dangling", RefusedReason::LinkNowhere),
                ("root", RefusedReason::LinkOutside),
                ("up", RefusedReason::LinkOutside),
                ("v2/loop", RefusedReason::LinkNotFollowed),
                ("v2/parent", RefusedReason::LinkNotFollowed),
            ]
        );
        let literal = vec!["root/secret".to_owned()];
        let found = find(&src, &Selection { files: &literal, ..Default::default() });
        assert!(found.selected.files.is_empty());
        let based = find(
            &src,
            &Selection { files: &files, base_directory: Some("ro*"), ..Default::default() },
        );
        assert!(based.selected.files.is_empty());
    }

    #[test]
    fn kept_links_stay_links_and_a_base_directory_link_is_read() {
        let dir = tempfile::tempdir().expect("dir");
        let src = dir.path().join("src");
        tree(&src, &["build/out/index.html", "nm/pkg/cli.js"]);
        symlink("build/out", src.join("dist")).expect("link");
        symlink("../pkg/cli.js", src.join("nm/cli")).expect("link");
        let files = all();
        let keep = Selection { files: &files, keep_symlinks: true, ..Default::default() };
        let found = find(&src, &Selection { base_directory: Some("dist"), ..keep });
        let got: Vec<(&str, &EntryKind)> =
            found.selected.files.iter().map(|f| (f.path.as_str(), &f.kind)).collect();
        assert_eq!(got, [("index.html", &EntryKind::File)]);
        let found = find(&src, &keep);
        let links: Vec<&str> = found
            .selected
            .files
            .iter()
            .filter(|f| matches!(f.kind, EntryKind::Symlink(_)))
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(links, ["dist", "nm/cli"]);
    }

    #[test]
    fn only_regular_files_are_opened() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("f"), b"x").expect("write");
        symlink("f", dir.path().join("l")).expect("link");
        let made = std::process::Command::new("mkfifo").arg(dir.path().join("p")).status();
        assert!(made.expect("mkfifo").success());
        assert!(open_regular(&dir.path().join("f")).is_ok());
        assert!(open_regular(&dir.path().join("l")).is_err());
        assert!(open_regular(&dir.path().join("p")).is_err());
        assert!(open_regular(dir.path()).is_err());
    }
}
