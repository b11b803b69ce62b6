//! Preparing one entry: reading it, choosing whether to deflate, and streaming large files.

use std::fs::File;
use std::io::{self, Read, Write};

use flate2::Compression;
use kiln_core::artifacts::{EntryKind, SelectedFile};

use super::error::ZipError;
use super::records::{CentralEntry, Hashing, dos_time, u32_of, write_local};
use crate::upload::walk::open_regular;

/// Files above this size are streamed by the writer rather than prepared in memory.
pub const LARGE_FILE: u64 = 8 << 20;
/// How much of a file is deflated to see whether deflating it pays.
const SAMPLE: usize = 64 << 10;

/// An entry ready to append.
pub(super) enum Prepared {
    Ready { crc: u32, size: u64, deflated: bool, data: Vec<u8>, mode: u32, dos: (u16, u16) },
    Large,
}

/// Whether a file name's extension marks already-compressed content.
fn precompressed(path: &str) -> bool {
    const EXT: &[&str] = &[
        "zip", "gz", "tgz", "bz2", "xz", "zst", "lz4", "7z", "rar", "br", "jar", "war", "ear",
        "whl", "apk", "aar", "nupkg", "png", "jpg", "jpeg", "gif", "webp", "avif", "heic", "mp3",
        "mp4", "m4a", "mov", "mkv", "webm", "ogg", "woff", "woff2", "pdf", "docx", "xlsx", "pptx",
    ];
    path.rsplit_once('.').is_some_and(|(_, ext)| EXT.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

fn deflate(data: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut enc = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::new(level),
    );
    enc.write_all(data)?;
    enc.finish()
}

/// Whether deflating a sample of `data` is worth it (it shrinks by more than 3 %).
fn compressible(sample: &[u8]) -> bool {
    if sample.len() < 512 {
        return true;
    }
    deflate(sample, 1).is_ok_and(|c| c.len() * 100 < sample.len() * 97)
}

fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    0o100_000 | (meta.permissions().mode() & 0o7777)
}

pub(super) fn prepare(entry: &SelectedFile, level: u32) -> Result<Prepared, ZipError> {
    let read_err = |source| ZipError::Read { path: entry.source.clone(), source };
    if let EntryKind::Symlink(target) = &entry.kind {
        let data = target.as_os_str().as_encoded_bytes().to_vec();
        let mtime = std::fs::symlink_metadata(&entry.source).ok().and_then(|m| m.modified().ok());
        return Ok(Prepared::Ready {
            crc: crc32fast::hash(&data),
            size: data.len() as u64,
            deflated: false,
            data,
            mode: 0o120_777,
            dos: dos_time(mtime),
        });
    }
    let mut file = open_regular(&entry.source).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if meta.len() > LARGE_FILE {
        return Ok(Prepared::Large);
    }
    let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut data).map_err(read_err)?;
    let crc = crc32fast::hash(&data);
    let size = data.len() as u64;
    let (deflated, data) =
        if precompressed(&entry.path) || !compressible(&data[..data.len().min(SAMPLE)]) {
            (false, data)
        } else {
            let packed = deflate(&data, level).map_err(read_err)?;
            if packed.len() < data.len() { (true, packed) } else { (false, data) }
        };
    Ok(Prepared::Ready {
        crc,
        size,
        deflated,
        data,
        mode: mode_of(&meta),
        dos: dos_time(meta.modified().ok()),
    })
}

pub(super) fn stream_large<W: Write>(
    w: &mut Hashing<W>,
    entry: &SelectedFile,
    name: Vec<u8>,
    offset: u64,
    level: u32,
) -> Result<CentralEntry, ZipError> {
    let read_err = |source| ZipError::Read { path: entry.source.clone(), source };
    let mut file = open_regular(&entry.source).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    let mut buf = vec![0u8; 1 << 20];
    let first = read_full(&mut file, &mut buf).map_err(read_err)?;
    let deflated = !precompressed(&entry.path) && compressible(&buf[..first.min(SAMPLE)]);
    let mut e = CentralEntry {
        name,
        crc: 0,
        compressed: 0,
        size: 0,
        offset,
        deflated,
        mode: mode_of(&meta),
        dos: dos_time(meta.modified().ok()),
        descriptor: true,
        stream64: meta.len() >= 0xFFFF_0000,
    };
    write_local(w, &e).map_err(ZipError::Write)?;
    let start = w.written;
    let mut hasher = crc32fast::Hasher::new();
    let mut size = 0u64;
    let mut n = first;
    if deflated {
        let mut enc = flate2::write::DeflateEncoder::new(&mut *w, Compression::new(level));
        while n > 0 {
            hasher.update(&buf[..n]);
            size += n as u64;
            enc.write_all(&buf[..n]).map_err(ZipError::Write)?;
            n = read_full(&mut file, &mut buf).map_err(read_err)?;
        }
        enc.finish().map_err(ZipError::Write)?;
    } else {
        while n > 0 {
            hasher.update(&buf[..n]);
            size += n as u64;
            w.write_all(&buf[..n]).map_err(ZipError::Write)?;
            n = read_full(&mut file, &mut buf).map_err(read_err)?;
        }
    }
    e.crc = hasher.finalize();
    e.size = size;
    e.compressed = w.written - start;
    let mut d = Vec::with_capacity(24);
    d.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
    d.extend_from_slice(&e.crc.to_le_bytes());
    if e.stream64 {
        d.extend_from_slice(&e.compressed.to_le_bytes());
        d.extend_from_slice(&e.size.to_le_bytes());
    } else {
        d.extend_from_slice(&u32_of(e.compressed).to_le_bytes());
        d.extend_from_slice(&u32_of(e.size).to_le_bytes());
    }
    w.write_all(&d).map_err(ZipError::Write)?;
    Ok(e)
}

fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
