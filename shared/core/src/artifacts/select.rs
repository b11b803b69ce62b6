//! Which listed entries an `artifacts`, `reports` or `cache` block selects, and their output
//! paths. Pure: the agent lists the tree (see [`super::Listed`]), asking [`Selector`] which
//! directories to look into, and [`Selector::select`] reads the list.
//!
//! Semantics (spec §4.1–4.3):
//! - patterns are relative to `base-directory` when set, else to the root (the source dir);
//!   they are cleaned first ([`super::clean_relative`]): one that leads outside selects
//!   nothing and is reported in [`Selected::refused`];
//! - `base-directory` may itself be a glob over directories (`my-build*`): every listed
//!   directory it matches, at most as deep as it has segments, is a base, their contents are
//!   merged, and the base itself is never part of an output path;
//! - a pattern without metacharacters that names a directory selects its whole tree [INF];
//! - `exclude-paths` are matched against the path relative to the base; a literal one that
//!   names a directory excludes its whole tree;
//! - `discard-paths` keeps only the file name; when two files flatten to one name the last
//!   one selected wins and the name is reported in [`Selected::collisions`] [INF];
//! - a pattern that selects nothing is reported in [`Selected::skipped`] (the caller logs
//!   `Skipping invalid file path <pattern>`);
//! - links: with `keep_symlinks` (`enable-symlinks` for a ZIP, always for the cache) a link is
//!   kept as a link when its target stays inside the root lexically, and refused otherwise;
//!   without it a link to a file inside the root is read as that file, a link to a directory
//!   inside is walked by the agent (its contents are listed under the link's path), and any
//!   other link is refused. Nothing is ever read through a link out of the root.
//!
//! Output paths are `/`-separated and sorted; each appears once.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::glob::Pattern;
use super::listing::{LinkLeads, Listed, ListedKind, Refused, RefusedReason};
use super::paths::{clean_relative, link_stays_inside};

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
    /// Paths and links not read because they lead out (each once, in the order met).
    pub refused: Vec<Refused>,
}

/// The base directories a selection reads from.
#[derive(Debug, Clone)]
enum Base {
    /// The root itself.
    Root,
    /// Every directory the pattern matches, at most as deep as its segments.
    Dirs(Pattern),
    /// A base-directory that leads outside: nothing is selected.
    Outside,
}

/// A [`Selection`] compiled: what the walk must list, then what the list selects.
#[derive(Debug, Clone)]
pub struct Selector {
    files: Vec<(String, Option<Pattern>)>,
    base: Base,
    excludes: Vec<Pattern>,
    discard_paths: bool,
    keep_symlinks: bool,
    refused: Vec<Refused>,
}

fn parts(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

impl Selector {
    /// Compiles `selection`, cleaning its paths.
    pub fn new(selection: &Selection<'_>) -> Self {
        let mut refused = Vec::new();
        let mut refuse = |path: &str, reason| {
            refused.push(Refused { path: path.to_owned(), reason });
        };
        let files = selection
            .files
            .iter()
            .map(|text| {
                let pattern = clean_relative(text).map(|clean| Pattern::new(&clean));
                if pattern.is_none() {
                    refuse(text, RefusedReason::FileOutside);
                }
                (text.clone(), pattern)
            })
            .collect();
        let base = match selection.base_directory.map(str::trim).filter(|b| !b.is_empty()) {
            None => Base::Root,
            Some(text) => match clean_relative(text) {
                Some(clean) if clean.is_empty() => Base::Root,
                Some(clean) => Base::Dirs(Pattern::new(&clean)),
                None => {
                    refuse(text, RefusedReason::BaseOutside);
                    Base::Outside
                }
            },
        };
        let excludes = selection
            .exclude_paths
            .iter()
            .filter_map(|text| {
                let clean = clean_relative(text);
                if clean.is_none() {
                    refuse(text, RefusedReason::ExcludeOutside);
                }
                clean.map(|c| Pattern::new(&c))
            })
            .collect();
        Self {
            files,
            base,
            excludes,
            discard_paths: selection.discard_paths,
            keep_symlinks: selection.keep_symlinks,
            refused,
        }
    }

    fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.files.iter().filter_map(|(_, p)| p.as_ref())
    }

    /// Whether the walk must list what is inside the directory `dir` (relative to the root;
    /// `""` is the root): whether anything under it may be a base or be selected.
    pub fn wants_dir(&self, dir: &str) -> bool {
        let dir = parts(dir);
        match &self.base {
            Base::Outside => false,
            Base::Root => self.patterns().any(|p| p.may_select_under(&dir)),
            Base::Dirs(base) => {
                if dir.len() < base.depth() && base.may_select_under(&dir) {
                    return true;
                }
                (1..=dir.len().min(base.depth())).any(|k| {
                    base.matches_parts(&dir[..k])
                        && self.patterns().any(|p| p.may_select_under(&dir[k..]))
                })
            }
        }
    }

    /// Whether a link at `dir` to a directory inside the root is walked as a directory:
    /// always without `keep_symlinks`, and with it when the link is a base directory or on
    /// the way to one (a base-directory is read wherever it leads inside the root).
    pub fn follows_dir_link(&self, dir: &str) -> bool {
        if !self.keep_symlinks {
            return true;
        }
        let dir = parts(dir);
        match &self.base {
            Base::Dirs(base) if dir.len() <= base.depth() => {
                base.matches_parts(&dir) || base.may_select_under(&dir)
            }
            _ => false,
        }
    }

    /// The bases among `entries`, in listing order.
    fn bases<'e>(&self, entries: &'e [Listed]) -> Vec<&'e str> {
        match &self.base {
            Base::Root => vec![""],
            Base::Outside => Vec::new(),
            Base::Dirs(base) => entries
                .iter()
                .filter(|e| e.kind == ListedKind::Dir)
                .filter(|e| {
                    let p = parts(&e.path);
                    p.len() <= base.depth() && base.matches_parts(&p)
                })
                .map(|e| e.path.as_str())
                .collect(),
        }
    }

    fn excluded(&self, rel: &str) -> bool {
        self.excludes.iter().any(|e| e.selects(rel))
    }

    /// Selects among `entries` (a listing in walk order, as [`super::Listed`] describes).
    pub fn select(&self, entries: &[Listed]) -> Selected {
        let mut out = Selected { refused: self.refused.clone(), ..Selected::default() };
        let bases = self.bases(entries);
        let buckets = bucket(entries, &bases);
        let mut refused_links: HashSet<usize> = HashSet::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (text, pattern) in &self.files {
            let mut found = false;
            if let Some(pattern) = pattern {
                for (base, members) in bases.iter().zip(&buckets) {
                    for &i in members {
                        let entry = &entries[i];
                        let rel = if base.is_empty() {
                            entry.path.as_str()
                        } else {
                            &entry.path[base.len() + 1..]
                        };
                        if !pattern.selects(rel) || self.excluded(rel) {
                            continue;
                        }
                        let Some((source, kind)) = self.read_as(entry) else {
                            if refused_links.insert(i) {
                                out.refused.push(Refused {
                                    path: entry.path.clone(),
                                    reason: link_refusal(entry),
                                });
                            }
                            continue;
                        };
                        found = true;
                        let path = if self.discard_paths {
                            rel.rsplit('/').next().unwrap_or(rel).to_owned()
                        } else {
                            rel.to_owned()
                        };
                        add(&mut out, &mut index, SelectedFile { source, path, kind });
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

    /// How a listed entry is read, or `None` when it is a link that must not be.
    fn read_as(&self, entry: &Listed) -> Option<(PathBuf, EntryKind)> {
        match &entry.kind {
            ListedKind::File => Some((entry.source.clone(), EntryKind::File)),
            ListedKind::Dir => None,
            ListedKind::Link { target, .. } if self.keep_symlinks => {
                link_stays_inside(&entry.path, target)
                    .then(|| (entry.source.clone(), EntryKind::Symlink(target.clone())))
            }
            ListedKind::Link { leads: LinkLeads::File(resolved), .. } => {
                Some((resolved.clone(), EntryKind::File))
            }
            ListedKind::Link { .. } => None,
        }
    }
}

/// Why a link entry was not read.
fn link_refusal(entry: &Listed) -> RefusedReason {
    match &entry.kind {
        ListedKind::Link { leads: LinkLeads::Dir, .. } => RefusedReason::LinkNotFollowed,
        ListedKind::Link { leads: LinkLeads::Nowhere, .. } => RefusedReason::LinkNowhere,
        _ => RefusedReason::LinkOutside,
    }
}

/// For each base, the indexes of the non-directory entries under it, in listing order.
fn bucket(entries: &[Listed], bases: &[&str]) -> Vec<Vec<usize>> {
    let mut buckets = vec![Vec::new(); bases.len()];
    if bases == [""] {
        buckets[0] = (0..entries.len()).filter(|&i| entries[i].kind != ListedKind::Dir).collect();
        return buckets;
    }
    let position: HashMap<&str, usize> = bases.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    for (i, entry) in entries.iter().enumerate() {
        if entry.kind == ListedKind::Dir {
            continue;
        }
        for (cut, _) in entry.path.match_indices('/') {
            if let Some(&b) = position.get(&entry.path[..cut]) {
                buckets[b].push(i);
            }
        }
    }
    buckets
}

/// Adds `file`, the last one winning a name already taken (a collision when it differs).
fn add(out: &mut Selected, index: &mut HashMap<String, usize>, file: SelectedFile) {
    match index.get(&file.path) {
        Some(&i) => {
            if out.files[i].source != file.source && !out.collisions.contains(&file.path) {
                out.collisions.push(file.path.clone());
            }
            out.files[i] = file;
        }
        None => {
            index.insert(file.path.clone(), out.files.len());
            out.files.push(file);
        }
    }
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
