//! Which files an `artifacts`, `reports` or `cache` block selects, and their output paths.
//!
//! Semantics (spec §4.1–4.3):
//! - patterns are relative to `base-directory` when set, else to the root (the source dir);
//! - `base-directory` may itself be a glob over directories (`my-build*`): every match is a
//!   base, their contents are merged, and the base itself is never part of an output path;
//! - a pattern without metacharacters that names a directory selects its whole tree [INF];
//! - `exclude-paths` are matched against the path relative to the base; a literal one that
//!   names a directory excludes its whole tree;
//! - `discard-paths` keeps only the file name; when two files flatten to one name the last
//!   one selected wins and the name is reported in [`Selected::collisions`] [INF];
//! - a pattern that selects nothing is reported in [`Selected::skipped`] (the caller logs
//!   `Skipping invalid file path <pattern>`);
//! - with `keep_symlinks` symbolic links are selected as links (`enable-symlinks`, ZIP only),
//!   otherwise they are followed and their targets' contents selected.
//!
//! Output paths are `/`-separated and sorted; each appears once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::glob::Pattern;

/// What to select: the keys of an `artifacts` (or `reports`, `cache`) block.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    /// `files` (or `paths`).
    pub files: &'a [String],
    /// `base-directory`.
    pub base_directory: Option<&'a str>,
    /// `discard-paths`.
    pub discard_paths: bool,
    /// `exclude-paths`.
    pub exclude_paths: &'a [String],
    /// `enable-symlinks`: keep links as links.
    pub keep_symlinks: bool,
}

/// How a selected entry is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a followed link to one).
    File,
    /// A symbolic link kept as a link, with its target as written.
    Symlink(PathBuf),
}

/// One selected entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedFile {
    /// Where it is on disk.
    pub source: PathBuf,
    /// Its path in the output, `/`-separated, relative.
    pub path: String,
    /// File or kept link.
    pub kind: EntryKind,
}

/// The result of a selection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selected {
    /// The entries, sorted by output path.
    pub files: Vec<SelectedFile>,
    /// Patterns that selected nothing, in the order written.
    pub skipped: Vec<String>,
    /// Output paths that more than one file flattened to (discard-paths).
    pub collisions: Vec<String>,
    /// Paths that could not be read while walking, with the reason (never fatal).
    pub unreadable: Vec<String>,
}

/// Selects files under `root` (the source directory) as `selection` says. Reads the file
/// system; never fails: what cannot be read is reported in [`Selected::unreadable`].
pub fn select(root: &Path, selection: &Selection<'_>) -> Selected {
    let mut out = Selected::default();
    let bases = match selection.base_directory.map(str::trim).filter(|b| !b.is_empty()) {
        None => vec![root.to_path_buf()],
        Some(base) => expand_dirs(root, base),
    };
    let excludes: Vec<Pattern> = selection.exclude_paths.iter().map(|p| Pattern::new(p)).collect();
    let mut index: HashMap<String, usize> = HashMap::new();
    for text in selection.files {
        let pattern = Pattern::new(text);
        let mut found = false;
        for base in &bases {
            for (rel, source, kind) in
                matches_under(base, &pattern, selection.keep_symlinks, &mut out.unreadable)
            {
                if excludes.iter().any(|e| excluded(e, &rel)) {
                    continue;
                }
                found = true;
                let path = if selection.discard_paths {
                    rel.rsplit('/').next().unwrap_or(&rel).to_owned()
                } else {
                    rel
                };
                let file = SelectedFile { source, path: path.clone(), kind };
                match index.get(&path) {
                    Some(&i) => {
                        if out.files[i].source != file.source && !out.collisions.contains(&path) {
                            out.collisions.push(path);
                        }
                        out.files[i] = file;
                    }
                    None => {
                        index.insert(path, out.files.len());
                        out.files.push(file);
                    }
                }
            }
        }
        if !found {
            out.skipped.push(text.clone());
        }
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn excluded(pattern: &Pattern, rel: &str) -> bool {
    if pattern.matches(rel) {
        return true;
    }
    let prefix = pattern.literal_prefix();
    pattern.is_literal() && !prefix.is_empty() && rel.starts_with(&format!("{prefix}/"))
}

/// The directories under `root` that the `base-directory` text names (a glob or one path).
fn expand_dirs(root: &Path, base: &str) -> Vec<PathBuf> {
    let pattern = Pattern::new(base);
    if pattern.is_literal() {
        let dir = root.join(pattern.literal_prefix());
        return if dir.is_dir() { vec![dir] } else { Vec::new() };
    }
    let depth = base.split('/').filter(|s| !s.is_empty() && *s != ".").count().max(1);
    let mut dirs: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .min_depth(1)
        .max_depth(depth)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter(|e| rel_path(root, e.path()).is_some_and(|rel| pattern.matches(&rel)))
        .map(|e| e.path().to_path_buf())
        .collect();
    dirs.dedup();
    dirs
}

fn rel_path(base: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(base).ok()?;
    let parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Some(parts.join("/"))
}

/// Every entry under `base` that `pattern` selects, in walk order: (relative path, source, kind).
fn matches_under(
    base: &Path,
    pattern: &Pattern,
    keep_symlinks: bool,
    unreadable: &mut Vec<String>,
) -> Vec<(String, PathBuf, EntryKind)> {
    let prefix = pattern.literal_prefix();
    let start = if prefix.is_empty() { base.to_path_buf() } else { base.join(&prefix) };
    let Ok(meta) = std::fs::symlink_metadata(&start) else { return Vec::new() };
    let whole_tree = pattern.is_literal();
    let walkable =
        meta.is_dir() || (meta.file_type().is_symlink() && !keep_symlinks && start.is_dir());
    if !walkable {
        if !whole_tree {
            return Vec::new();
        }
        let kind = if meta.file_type().is_symlink() && keep_symlinks {
            match std::fs::read_link(&start) {
                Ok(target) => EntryKind::Symlink(target),
                Err(_) => return Vec::new(),
            }
        } else if start.is_file() {
            EntryKind::File
        } else {
            return Vec::new();
        };
        return vec![(prefix, start, kind)];
    }
    let mut found = Vec::new();
    let walk =
        walkdir::WalkDir::new(&start).min_depth(1).follow_links(!keep_symlinks).sort_by_file_name();
    for entry in walk {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(|p| p.display().to_string()).unwrap_or_default();
                unreadable.push(format!("{path}: {e}"));
                continue;
            }
        };
        let file_type = entry.file_type();
        let kind = if file_type.is_symlink() {
            match std::fs::read_link(entry.path()) {
                Ok(target) => EntryKind::Symlink(target),
                Err(e) => {
                    unreadable.push(format!("{}: {e}", entry.path().display()));
                    continue;
                }
            }
        } else if file_type.is_file() {
            EntryKind::File
        } else {
            continue;
        };
        let Some(rel) = rel_path(base, entry.path()) else { continue };
        if whole_tree || pattern.matches(&rel) {
            found.push((rel, entry.path().to_path_buf(), kind));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for f in files {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, f.as_bytes()).expect("write");
        }
        dir
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn paths(selected: &Selected) -> Vec<&str> {
        selected.files.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn t38_base_directory_is_not_part_of_output_paths() {
        let dir = tree(&["dist/index.html", "dist/js/app.js", "src/main.ts"]);
        let files = strings(&["**/*"]);
        let s = select(
            dir.path(),
            &Selection { files: &files, base_directory: Some("dist"), ..Default::default() },
        );
        assert_eq!(paths(&s), ["index.html", "js/app.js"]);
    }

    #[test]
    fn t39_discard_paths_flattens() {
        let dir = tree(&["target/app.jar"]);
        let files = strings(&["target/app.jar"]);
        let s = select(
            dir.path(),
            &Selection { files: &files, discard_paths: true, ..Default::default() },
        );
        assert_eq!(paths(&s), ["app.jar"]);
    }

    const MY_BUILD: [&str; 3] = [
        "my-build-1/my-file-1.txt",
        "my-build-2/my-file-2.txt",
        "my-build-2/my-subdirectory/my-file-3.txt",
    ];

    #[test]
    fn t40_star_stays_in_one_segment_under_a_base() {
        let dir = tree(&MY_BUILD);
        let files = strings(&["*/my-file-3.txt"]);
        let s = select(
            dir.path(),
            &Selection { files: &files, base_directory: Some("my-build-2"), ..Default::default() },
        );
        assert_eq!(paths(&s), ["my-subdirectory/my-file-3.txt"]);
    }

    #[test]
    fn t41_base_directory_glob_merges_and_discards() {
        let dir = tree(&MY_BUILD);
        let files = strings(&["**/*"]);
        let sel = Selection {
            files: &files,
            base_directory: Some("my-build*"),
            discard_paths: true,
            ..Default::default()
        };
        let s = select(dir.path(), &sel);
        assert_eq!(paths(&s), ["my-file-1.txt", "my-file-2.txt", "my-file-3.txt"]);
        let sel = Selection { discard_paths: false, ..sel };
        assert_eq!(
            paths(&select(dir.path(), &sel)),
            ["my-file-1.txt", "my-file-2.txt", "my-subdirectory/my-file-3.txt"]
        );
    }

    #[test]
    fn t42_t43_missing_patterns_are_skipped() {
        let dir = tree(&["a.txt"]);
        let files = strings(&["a.txt", "missing.txt"]);
        let s = select(dir.path(), &Selection { files: &files, ..Default::default() });
        assert_eq!(paths(&s), ["a.txt"]);
        assert_eq!(s.skipped, ["missing.txt"]);
        let files = strings(&["does-not-exist.txt"]);
        let s = select(dir.path(), &Selection { files: &files, ..Default::default() });
        assert!(s.files.is_empty());
        assert_eq!(s.skipped, ["does-not-exist.txt"]);
    }

    #[test]
    fn t44_exclude_paths_are_relative_to_the_base() {
        let dir = tree(&["dist/a.js", "dist/a.js.map"]);
        let files = strings(&["**/*"]);
        let excl = strings(&["**/*.map"]);
        let sel = Selection {
            files: &files,
            base_directory: Some("dist"),
            exclude_paths: &excl,
            ..Default::default()
        };
        assert_eq!(paths(&select(dir.path(), &sel)), ["a.js"]);
    }

    #[test]
    fn t45_dir_star_selects_direct_children_only() {
        let dir = tree(&["sub/a", "sub/deep/b"]);
        let files = strings(&["sub/*"]);
        assert_eq!(
            paths(&select(dir.path(), &Selection { files: &files, ..Default::default() })),
            ["sub/a"]
        );
    }

    #[test]
    fn a_bare_directory_selects_its_tree_and_a_literal_exclude_its_subtree() {
        let dir = tree(&["out/a", "out/x/b", "out/skip/c", ".hidden"]);
        let files = strings(&["out", "*"]);
        let excl = strings(&["out/skip"]);
        let s = select(
            dir.path(),
            &Selection { files: &files, exclude_paths: &excl, ..Default::default() },
        );
        assert_eq!(paths(&s), [".hidden", "out/a", "out/x/b"]);
    }

    #[test]
    fn discard_paths_collisions_keep_the_last_and_are_reported() {
        let dir = tree(&["a/f.txt", "b/f.txt"]);
        let files = strings(&["**/*"]);
        let s = select(
            dir.path(),
            &Selection { files: &files, discard_paths: true, ..Default::default() },
        );
        assert_eq!(paths(&s), ["f.txt"]);
        assert_eq!(s.collisions, ["f.txt"]);
        assert!(s.files[0].source.ends_with("b/f.txt"));
    }

    #[test]
    fn symlinks_are_followed_or_kept() {
        let dir = tree(&["real/f.txt"]);
        std::os::unix::fs::symlink("real/f.txt", dir.path().join("link.txt")).expect("symlink");
        let files = strings(&["*.txt"]);
        let s = select(dir.path(), &Selection { files: &files, ..Default::default() });
        assert_eq!(s.files[0].kind, EntryKind::File);
        let s = select(
            dir.path(),
            &Selection { files: &files, keep_symlinks: true, ..Default::default() },
        );
        assert_eq!(s.files[0].kind, EntryKind::Symlink(PathBuf::from("real/f.txt")));
    }
}
