//! Restoring a cache archive, which may be hostile: another project sharing the cache
//! namespace, or a build that poisoned a keyed entry, controls every byte of it.
//!
//! Rules:
//! - an entry is written only when the *current* buildspec's cache paths select its name
//!   ([`CachePaths::locate`]), under that path's root; other names are skipped;
//! - only regular files and symbolic links are restored. Directory entries are not (the
//!   directories a file needs are created as needed, with the default mode; kiln never
//!   archives directories) [INF]; hard links, devices, fifos and any other kind are skipped;
//! - nothing is written through a link: every directory between a root and a file is either
//!   created by the restore or found to be a real directory (`symlink_metadata`), once per
//!   directory — the restore keeps the set of directories it has checked, so a tree of
//!   thousands of files costs one system call per new directory, not per path component.
//!   A file or link is created with `O_CREAT | O_EXCL` (never opening what is there); a file
//!   or link in the way is removed first, a directory in the way makes the entry skipped;
//! - a link is restored only when its target stays inside the root lexically
//!   ([`link_stays_inside`]): absolute and escaping targets are skipped. The root is the
//!   source directory for relative paths and the declared literal prefix (`/root/.m2`) for
//!   absolute ones [INF];
//! - modes keep only the permission bits (`& 0o777`): no setuid, setgid or sticky bit;
//!   modification times are kept;
//! - the root of an absolute path (`/root/.m2`) is created if missing, as declared;
//!   the source directory exists already.
//!
//! Skipped entries never fail the restore; they are counted, and the first
//! [`MAX_SKIPS_KEPT`] are kept for the log [INF: a hostile archive could otherwise flood it]. Only an archive that cannot be read (or a root
//! that cannot be created, or a full disk) is an error, which the caller logs as a warning.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::SyncSender;
use std::time::SystemTime;

use kiln_core::artifacts::link_stays_inside;
use kiln_core::cache::CachePaths;

use super::error::ArchiveError;

/// Files up to this size are handed to the writer threads; larger ones are streamed in place.
const IN_MEMORY: u64 = 4 << 20;
/// How many skipped entries are kept (with their names) for the log.
pub const MAX_SKIPS_KEPT: usize = 20;

/// One entry that was not restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The entry's name, as the archive has it (lossy for names that are not UTF-8).
    pub name: String,
    /// Why.
    pub reason: SkipReason,
}

/// Why an entry was not restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The name is not UTF-8, not clean, or no current cache path selects it.
    NotACachePath,
    /// A hard link, a device, a fifo or another kind kiln does not restore.
    Kind,
    /// A link whose target is absolute or leads outside the root.
    LinkOutside,
    /// A directory on the way is a link or not a directory.
    ThroughLink,
    /// A directory is where the file or link would go.
    DirectoryInTheWay,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotACachePath => "it is not under the buildspec's cache paths",
            Self::Kind => "only regular files and links are restored",
            Self::LinkOutside => "the link leads outside the cache path's directory",
            Self::ThroughLink => "a directory on its way is a link or a file",
            Self::DirectoryInTheWay => "a directory is in the way",
        })
    }
}

/// What a restore did.
#[derive(Debug, Default)]
pub struct Restored {
    /// Files and links written.
    pub count: usize,
    /// How many entries were skipped.
    pub skipped: usize,
    /// The first [`MAX_SKIPS_KEPT`] of them.
    pub skips: Vec<Skip>,
}

impl Restored {
    fn skip(&mut self, name: &str, reason: SkipReason) {
        self.skipped += 1;
        if self.skips.len() < MAX_SKIPS_KEPT {
            self.skips.push(Skip { name: name.to_owned(), reason });
        }
    }
}

/// A file ready to be written by a writer thread.
struct Pending {
    name: String,
    dest: PathBuf,
    data: Vec<u8>,
    mode: u32,
    mtime: u64,
}

/// Restores the archive `input` under the roots of `paths` (relative ones under `src_dir`).
///
/// One thread decompresses and reads the archive and checks every entry; small files are
/// written by a few writer threads (creating files is what costs), big ones and links by the
/// reading thread.
pub fn unpack(input: File, paths: &CachePaths, src_dir: &Path) -> Result<Restored, ArchiveError> {
    // Creating files mostly waits on the file system, so more writers than cores pay.
    let writers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4) * 3;
    let umask = umask_of(src_dir);
    let in_the_way: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let (tx, rx) = std::sync::mpsc::sync_channel::<Pending>(256);
    let rx = Mutex::new(rx);
    let result = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|_| {
                scope.spawn(|| -> io::Result<()> {
                    loop {
                        let next = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return Err(io::Error::other("writer queue poisoned")),
                        };
                        let Ok(p) = next else { return Ok(()) };
                        if !write_file(&p.dest, &mut p.data.as_slice(), p.mode, p.mtime, umask)?
                            && let Ok(mut names) = in_the_way.lock()
                        {
                            names.push(p.name);
                        }
                    }
                })
            })
            .collect();
        let mut reader =
            Reader { paths, src_dir, tx: &tx, umask, dirs: HashSet::new(), roots: Vec::new() };
        let read = reader.read(input);
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
    });
    let mut restored = result?;
    for name in in_the_way.into_inner().unwrap_or_default() {
        restored.count = restored.count.saturating_sub(1);
        restored.skip(&name, SkipReason::DirectoryInTheWay);
    }
    Ok(restored)
}

/// The reading thread's state.
struct Reader<'a> {
    paths: &'a CachePaths,
    src_dir: &'a Path,
    tx: &'a SyncSender<Pending>,
    umask: u32,
    /// Real directories checked or created by this restore (roots included).
    dirs: HashSet<PathBuf>,
    /// Each path's root once it is ready.
    roots: Vec<Option<PathBuf>>,
}

impl Reader<'_> {
    fn read(&mut self, input: File) -> Result<Restored, ArchiveError> {
        let dec = zstd::Decoder::new(input).map_err(ArchiveError::Read)?;
        let mut archive = tar::Archive::new(dec);
        let mut out = Restored::default();
        self.roots = vec![None; self.paths.paths.len()];
        for entry in archive.entries().map_err(ArchiveError::Read)? {
            let mut entry = entry.map_err(ArchiveError::Read)?;
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                continue;
            }
            let bytes = entry.path_bytes();
            let name = match std::str::from_utf8(&bytes) {
                Ok(n) => n.to_owned(),
                Err(_) => {
                    out.skip(&String::from_utf8_lossy(&bytes), SkipReason::NotACachePath);
                    continue;
                }
            };
            let Some((index, rel)) = self.paths.locate(&name) else {
                out.skip(&name, SkipReason::NotACachePath);
                continue;
            };
            if !(kind.is_file() || kind.is_symlink()) {
                out.skip(&name, SkipReason::Kind);
                continue;
            }
            let link = if kind.is_symlink() {
                let target = entry.link_name().map_err(ArchiveError::Read)?.map(|t| t.into_owned());
                match target {
                    Some(t) if link_stays_inside(rel, &t) => Some(t),
                    _ => {
                        out.skip(&name, SkipReason::LinkOutside);
                        continue;
                    }
                }
            } else {
                None
            };
            let root = self.root(index)?;
            if !self.parents(&root, rel).map_err(ArchiveError::Read)? {
                out.skip(&name, SkipReason::ThroughLink);
                continue;
            }
            let dest = root.join(rel);
            let header = entry.header();
            let mode = header.mode().unwrap_or(0o644) & 0o777;
            let mtime = header.mtime().unwrap_or(0);
            let written = match link {
                Some(target) => replace(&dest, |d| std::os::unix::fs::symlink(&target, d))
                    .map_err(ArchiveError::Read)?,
                None if entry.size() <= IN_MEMORY => {
                    let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
                    entry.read_to_end(&mut data).map_err(ArchiveError::Read)?;
                    let pending = Pending { name: name.clone(), dest, data, mode, mtime };
                    if self.tx.send(pending).is_err() {
                        return Err(ArchiveError::Read(io::Error::other(
                            "a writer thread stopped",
                        )));
                    }
                    true
                }
                None => write_file(&dest, &mut entry, mode, mtime, self.umask)
                    .map_err(ArchiveError::Read)?,
            };
            if written {
                out.count += 1;
            } else {
                out.skip(&name, SkipReason::DirectoryInTheWay);
            }
        }
        Ok(out)
    }

    /// The root directory of path `index`, created (as declared) the first time it is needed.
    fn root(&mut self, index: usize) -> Result<PathBuf, ArchiveError> {
        if let Some(Some(root)) = self.roots.get(index) {
            return Ok(root.clone());
        }
        let root = self.paths.paths[index].root_dir(self.src_dir);
        std::fs::create_dir_all(&root)
            .map_err(|source| ArchiveError::Root { path: root.clone(), source })?;
        self.dirs.insert(root.clone());
        self.roots[index] = Some(root.clone());
        Ok(root)
    }

    /// Makes sure every directory between `root` and the entry `rel` is a real directory,
    /// creating missing ones; `false` when one is a link or a file.
    fn parents(&mut self, root: &Path, rel: &str) -> io::Result<bool> {
        let Some((parent, _)) = rel.rsplit_once('/') else { return Ok(true) };
        if self.dirs.contains(&root.join(parent)) {
            return Ok(true);
        }
        let mut dir = root.to_path_buf();
        for segment in parent.split('/') {
            dir.push(segment);
            if self.dirs.contains(&dir) {
                continue;
            }
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let meta = std::fs::symlink_metadata(&dir)?;
                    if !meta.is_dir() {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(e),
            }
            self.dirs.insert(dir.clone());
        }
        Ok(true)
    }
}

/// Runs `create` at `dest` (which must not follow a link there), removing a file or link in
/// the way first; `false` when a directory is in the way.
fn replace(dest: &Path, mut create: impl FnMut(&Path) -> io::Result<()>) -> io::Result<bool> {
    match create(dest) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if std::fs::symlink_metadata(dest)?.is_dir() {
                return Ok(false);
            }
            std::fs::remove_file(dest)?;
            create(dest).map(|()| true)
        }
        other => other.map(|()| true),
    }
}

/// The process's umask, found by creating a probe file (asking for it would change it for
/// every thread); every bit when the probe fails, so modes are then always set explicitly.
fn umask_of(dir: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o777))
        .tempfile_in(dir)
        .and_then(|f| f.as_file().metadata())
        .map_or(0o777, |m| !m.permissions().mode() & 0o777)
}

/// Writes a new file at `dest` with `mode` (permission bits only) and `mtime`; `false` when a
/// directory is in the way.
fn write_file(
    dest: &Path,
    data: &mut dyn Read,
    mode: u32,
    mtime: u64,
    umask: u32,
) -> io::Result<bool> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut opened = None;
    let created = replace(dest, |d| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(d)?;
        opened = Some(file);
        Ok(())
    });
    let Some(mut file) = opened.filter(|_| matches!(created, Ok(true))) else {
        return created;
    };
    io::copy(data, &mut file)?;
    if mode & umask != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
    file.set_times(std::fs::FileTimes::new().set_modified(time).set_accessed(time))?;
    Ok(true)
}

#[cfg(test)]
#[path = "unpack_tests.rs"]
mod tests;
