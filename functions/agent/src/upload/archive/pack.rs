//! Writing a cache archive from selected entries.
//!
//! Files are opened with [`open_regular`] (no link followed, nothing but a regular file
//! read) and archived with their mode stripped of setuid, setgid and sticky bits; links are
//! archived as links with their target as written. The selection already left out links
//! that lead outside their root.

use std::fs::File;
use std::io::{self, BufWriter};

use kiln_core::artifacts::{EntryKind, SelectedFile};

use super::error::ArchiveError;
use crate::upload::walk::open_regular;

/// The zstd level of cache archives: fast, with most of the ratio.
const LEVEL: i32 = 3;

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
    use std::os::unix::fs::PermissionsExt;
    let enc = zstd::Encoder::new(BufWriter::with_capacity(1 << 20, out), LEVEL)
        .map_err(ArchiveError::Write)?;
    let mut builder = tar::Builder::new(enc);
    for e in entries {
        let source = |source| ArchiveError::Source { path: e.file.source.clone(), source };
        let mut header = tar::Header::new_gnu();
        match &e.file.kind {
            EntryKind::File => {
                let mut file = open_regular(&e.file.source).map_err(source)?;
                let meta = file.metadata().map_err(source)?;
                header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
                header.set_mode(meta.permissions().mode() & 0o777);
                builder
                    .append_data(&mut header, &e.name, &mut file)
                    .map_err(ArchiveError::Write)?;
            }
            EntryKind::Symlink(target) => {
                let meta = std::fs::symlink_metadata(&e.file.source).map_err(source)?;
                header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                header.set_mode(0o777);
                builder.append_link(&mut header, &e.name, target).map_err(ArchiveError::Write)?;
            }
        }
    }
    let enc = builder.into_inner().map_err(ArchiveError::Write)?;
    let mut buf = enc.finish().map_err(ArchiveError::Write)?;
    io::Write::flush(&mut buf).map_err(ArchiveError::Write)?;
    Ok(entries.len())
}
