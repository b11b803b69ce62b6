//! Cache archives: tar + zstd, written and read as streams.
//!
//! Entry names say where a path is restored: `s/<path>` relative to the source directory,
//! `a/<path>` absolute (without its leading `/`). Symbolic links are archived as links (the
//! `.bin` links of `node_modules` stay links). Restoring replaces files and links in the way,
//! keeps modification times, and refuses names with `..` or other escaping components.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Component, Path, PathBuf};

use kiln_core::artifacts::{EntryKind, SelectedFile};

/// The zstd level of cache archives: fast, with most of the ratio.
const LEVEL: i32 = 3;

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Writing the archive failed.
    #[error("write the cache archive")]
    Write(#[source] io::Error),
    /// Reading or unpacking the archive failed.
    #[error("read the cache archive")]
    Read(#[source] io::Error),
}

/// One file to archive, under its entry name (`s/...` or `a/...`).
#[derive(Debug, Clone)]
pub struct ArchiveEntry {
    /// The entry name.
    pub name: String,
    /// The file.
    pub file: SelectedFile,
}

/// Writes `entries` to `out`; returns the number of entries.
pub fn pack(entries: &[ArchiveEntry], out: File) -> Result<usize, ArchiveError> {
    let enc = zstd::Encoder::new(BufWriter::with_capacity(1 << 20, out), LEVEL)
        .map_err(ArchiveError::Write)?;
    let mut builder = tar::Builder::new(enc);
    builder.follow_symlinks(false);
    for e in entries {
        match &e.file.kind {
            EntryKind::File | EntryKind::Symlink(_) => {
                builder
                    .append_path_with_name(&e.file.source, &e.name)
                    .map_err(ArchiveError::Write)?;
            }
        }
    }
    let enc = builder.into_inner().map_err(ArchiveError::Write)?;
    let mut buf = enc.finish().map_err(ArchiveError::Write)?;
    io::Write::flush(&mut buf).map_err(ArchiveError::Write)?;
    Ok(entries.len())
}

/// Where entry `name` is restored, or `None` for a name kiln did not write.
pub fn destination(name: &Path, src_dir: &Path) -> Option<PathBuf> {
    let mut comps = name.components();
    let root = match comps.next()? {
        Component::Normal(c) if c == "s" => src_dir.to_path_buf(),
        Component::Normal(c) if c == "a" => PathBuf::from("/"),
        _ => return None,
    };
    let rest: PathBuf = comps.clone().collect();
    if rest.as_os_str().is_empty() || !comps.all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(rest))
}

/// Restores the archive `input` into place; returns the number of entries restored.
pub fn unpack(input: File, src_dir: &Path) -> Result<usize, ArchiveError> {
    let dec = zstd::Decoder::new(input).map_err(ArchiveError::Read)?;
    let mut archive = tar::Archive::new(dec);
    archive.set_preserve_mtime(true);
    archive.set_preserve_permissions(true);
    let mut count = 0;
    for entry in archive.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let name = entry.path().map_err(ArchiveError::Read)?.into_owned();
        let Some(dest) = destination(&name, src_dir) else { continue };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(ArchiveError::Read)?;
        }
        if let Ok(meta) = std::fs::symlink_metadata(&dest) {
            if !meta.is_dir() {
                std::fs::remove_file(&dest).map_err(ArchiveError::Read)?;
            }
        }
        entry.unpack(&dest).map_err(ArchiveError::Read)?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_the_source_dir_or_the_root_and_never_escape() {
        let src = Path::new("/src");
        assert_eq!(
            destination(Path::new("s/node_modules/a.js"), src),
            Some(PathBuf::from("/src/node_modules/a.js"))
        );
        assert_eq!(
            destination(Path::new("a/root/.m2/x.jar"), src),
            Some(PathBuf::from("/root/.m2/x.jar"))
        );
        assert_eq!(destination(Path::new("s/../etc/passwd"), src), None);
        assert_eq!(destination(Path::new("x/y"), src), None);
        assert_eq!(destination(Path::new("s"), src), None);
    }

    #[test]
    fn a_tree_with_links_round_trips() {
        let dir = tempfile::tempdir().expect("dir");
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("nm/pkg/bin")).expect("mkdir");
        std::fs::create_dir_all(src.join("nm/.bin")).expect("mkdir");
        std::fs::write(src.join("nm/pkg/bin/cli.js"), b"#!/usr/bin/env node\n").expect("write");
        std::os::unix::fs::symlink("../pkg/bin/cli.js", src.join("nm/.bin/cli")).expect("link");
        let files = [
            ("nm/pkg/bin/cli.js", EntryKind::File),
            ("nm/.bin/cli", EntryKind::Symlink("../pkg/bin/cli.js".into())),
        ];
        let entries: Vec<ArchiveEntry> = files
            .iter()
            .map(|(p, k)| ArchiveEntry {
                name: format!("s/{p}"),
                file: SelectedFile { source: src.join(p), path: (*p).to_owned(), kind: k.clone() },
            })
            .collect();
        let archive = dir.path().join("c.tar.zst");
        assert_eq!(pack(&entries, File::create(&archive).expect("create")).expect("pack"), 2);
        let fresh = dir.path().join("fresh");
        std::fs::create_dir_all(fresh.join("nm/.bin")).expect("mkdir");
        std::fs::write(fresh.join("nm/.bin/cli"), b"stale").expect("stale file in the way");
        assert_eq!(unpack(File::open(&archive).expect("open"), &fresh).expect("unpack"), 2);
        assert_eq!(
            std::fs::read(fresh.join("nm/pkg/bin/cli.js")).expect("read"),
            b"#!/usr/bin/env node\n"
        );
        assert_eq!(
            std::fs::read_link(fresh.join("nm/.bin/cli")).expect("link"),
            PathBuf::from("../pkg/bin/cli.js")
        );
    }
}
