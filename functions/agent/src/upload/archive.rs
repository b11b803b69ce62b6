//! Cache archives: tar + zstd, written and read as streams.
//!
//! Entry names say where a path is restored: `s/<path>` relative to the source directory,
//! `a/<path>` absolute (without its leading `/`). Symbolic links are archived as links (the
//! `.bin` links of `node_modules` stay links). Restoring replaces files and links in the way,
//! keeps modification times and modes, and refuses names with `..` or other escaping
//! components.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

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

/// Files up to this size are handed to the writer threads; larger ones are streamed in place.
const IN_MEMORY: u64 = 4 << 20;

/// A file ready to be written by a writer thread.
struct Pending {
    dest: PathBuf,
    data: Vec<u8>,
    mode: u32,
    mtime: u64,
}

/// Restores the archive `input` into place; returns the number of entries restored.
///
/// One thread decompresses and reads the archive; small files are written by a few writer
/// threads (creating files is what costs), big ones and links by the reading thread.
pub fn unpack(input: File, src_dir: &Path) -> Result<usize, ArchiveError> {
    // Creating files mostly waits on the file system, so more writers than cores pay.
    let writers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4) * 3;
    let umask = umask_of(src_dir);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Pending>(256);
    let rx = std::sync::Mutex::new(rx);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|_| {
                scope.spawn(|| -> io::Result<()> {
                    loop {
                        let next = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return Err(io::Error::other("writer queue poisoned")),
                        };
                        let Ok(p) = next else { return Ok(()) };
                        write_file(&p.dest, &mut p.data.as_slice(), p.mode, p.mtime, umask)?;
                    }
                })
            })
            .collect();
        let read = read_entries(input, src_dir, &tx, umask);
        drop(tx);
        let mut result = read;
        for h in handles {
            let written =
                h.join().unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")));
            if let (Ok(_), Err(e)) = (&result, written) {
                result = Err(ArchiveError::Read(e));
            }
        }
        result
    })
}

fn read_entries(
    input: File,
    src_dir: &Path,
    tx: &std::sync::mpsc::SyncSender<Pending>,
    umask: u32,
) -> Result<usize, ArchiveError> {
    let dec = zstd::Decoder::new(input).map_err(ArchiveError::Read)?;
    let mut archive = tar::Archive::new(dec);
    let mut dirs: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut count = 0;
    for entry in archive.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let name = entry.path().map_err(ArchiveError::Read)?.into_owned();
        let Some(dest) = destination(&name, src_dir) else { continue };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&dest).map_err(ArchiveError::Read)?;
            dirs.insert(dest);
            continue;
        }
        if let Some(parent) = dest.parent() {
            if !dirs.contains(parent) {
                std::fs::create_dir_all(parent).map_err(ArchiveError::Read)?;
                dirs.insert(parent.to_path_buf());
            }
        }
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let mtime = header.mtime().unwrap_or(0);
        if kind.is_symlink() {
            let Some(target) =
                entry.link_name().map_err(ArchiveError::Read)?.map(|t| t.into_owned())
            else {
                continue;
            };
            replace(&dest, |d| std::os::unix::fs::symlink(&target, d))
                .map_err(ArchiveError::Read)?;
        } else if kind.is_file() {
            let size = entry.size();
            if size <= IN_MEMORY {
                let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                std::io::Read::read_to_end(&mut entry, &mut data).map_err(ArchiveError::Read)?;
                if tx.send(Pending { dest, data, mode, mtime }).is_err() {
                    return Err(ArchiveError::Read(io::Error::other("a writer thread stopped")));
                }
            } else {
                write_file(&dest, &mut entry, mode, mtime, umask).map_err(ArchiveError::Read)?;
            }
        } else {
            continue;
        }
        count += 1;
    }
    Ok(count)
}

/// Runs `create` at `dest`, removing a file or link in the way first if there is one.
fn replace(dest: &Path, create: impl Fn(&Path) -> io::Result<()>) -> io::Result<()> {
    match create(dest) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(dest)?;
            create(dest)
        }
        other => other,
    }
}

/// The process's umask, found by creating a probe file (asking for it would change it for
/// every thread); every bit when the probe fails, so modes are then always set explicitly.
fn umask_of(dir: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::create_dir_all(dir);
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o777))
        .tempfile_in(dir)
        .and_then(|f| f.as_file().metadata())
        .map_or(0o7777, |m| !m.permissions().mode() & 0o777)
}

fn write_file(
    dest: &Path,
    data: &mut dyn io::Read,
    mode: u32,
    mtime: u64,
    umask: u32,
) -> io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let open =
        |d: &Path| std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(d);
    let mut file = match open(dest) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(dest)?;
            open(dest)?
        }
        other => other?,
    };
    io::copy(data, &mut file)?;
    if mode & umask != 0 || mode & 0o7000 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
    file.set_times(std::fs::FileTimes::new().set_modified(time).set_accessed(time))
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
        let exec = std::os::unix::fs::PermissionsExt::from_mode(0o751);
        std::fs::set_permissions(src.join("nm/pkg/bin/cli.js"), exec).expect("chmod");
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
