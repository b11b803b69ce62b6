//! A streaming, parallel ZIP writer for ZIP-packaged artifacts.
//!
//! Entries are prepared on a small pool of threads (`std::thread::scope`): each reads its
//! file, computes the CRC and deflates it in memory, while the writer thread appends the
//! finished entries to the output strictly in order. Run-ahead is bounded by an entry window
//! and a byte budget, so memory stays small whatever the archive's size. Files larger than
//! [`LARGE_FILE`] are streamed by the writer itself with a data descriptor. A file is stored
//! uncompressed when its extension says it is already compressed, when a sample of it does
//! not shrink, or when deflating does not make it smaller; deflate runs at [`DEFAULT_LEVEL`].
//! ZIP64 records are written when sizes, offsets or the entry count need them. Symbolic links (kept with `enable-symlinks`)
//! are stored as links, Unix mode `0120777`, the target as their data.
//!
//! The SHA-256 and MD5 of the archive are computed while it is written.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::SystemTime;

use flate2::Compression;
use kiln_core::artifacts::{EntryKind, SelectedFile};
use md5::Md5;
use sha2::{Digest, Sha256};

/// Files above this size are streamed by the writer rather than prepared in memory.
pub const LARGE_FILE: u64 = 8 << 20;
/// How far ahead of the writer the workers may prepare entries.
const WINDOW: usize = 512;
/// At most this many bytes of prepared entries wait in memory.
const BYTE_BUDGET: u64 = 96 << 20;
/// The deflate level kiln uses. Level 4 of zlib-rs gives archives within about 3 % of
/// Info-ZIP's default (`-6`) on mixed text and binary trees, at about 1.4× the speed of level 6
/// (measured with `scripts/bench-upload`).
pub const DEFAULT_LEVEL: u32 = 4;
const SAMPLE: usize = 64 << 10;

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// Reading an input file failed.
    #[error("read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing the archive failed.
    #[error("write the archive")]
    Write(#[source] io::Error),
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipSummary {
    /// Archive size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the archive.
    pub sha256: String,
    /// Hex MD5 of the archive.
    pub md5: String,
    /// Number of entries.
    pub entries: usize,
}

/// An entry ready to append.
enum Prepared {
    Ready { crc: u32, size: u64, deflated: bool, data: Vec<u8>, mode: u32, dos: (u16, u16) },
    Large,
}

struct Hashing<W: Write> {
    inner: W,
    sha: Sha256,
    md5: Md5,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.md5.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct CentralEntry {
    name: Vec<u8>,
    crc: u32,
    compressed: u64,
    size: u64,
    offset: u64,
    deflated: bool,
    mode: u32,
    dos: (u16, u16),
    descriptor: bool,
    /// A streamed entry whose local header carries a ZIP64 extra (it may reach 4 GiB).
    stream64: bool,
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

fn dos_time(mtime: Option<SystemTime>) -> (u16, u16) {
    let secs = mtime
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else { return (0, 0x21) };
    if t.year() < 1980 {
        return (0, 0x21);
    }
    let year = u16::try_from((t.year() - 1980).min(127)).unwrap_or(0);
    let time =
        (u16::from(t.hour()) << 11) | (u16::from(t.minute()) << 5) | (u16::from(t.second()) / 2);
    let date = (year << 9) | (u16::from(u8::from(t.month())) << 5) | u16::from(t.day());
    (time, date)
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

fn prepare(entry: &SelectedFile, level: u32) -> Result<Prepared, ZipError> {
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
    let mut file = File::open(&entry.source).map_err(read_err)?;
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

/// Shared state between the writer and the workers.
struct Pipeline {
    slots: Vec<Mutex<Option<Result<Prepared, ZipError>>>>,
    next: AtomicUsize,
    state: Mutex<(usize, u64)>,
    changed: Condvar,
    stop: AtomicBool,
}

/// Writes `entries` (in order) as a ZIP archive to `out`, deflating at [`DEFAULT_LEVEL`].
pub fn write_zip(entries: &[SelectedFile], out: File) -> Result<ZipSummary, ZipError> {
    write_zip_level(entries, out, DEFAULT_LEVEL)
}

/// [`write_zip`] at deflate `level` (1 fastest to 9 smallest).
pub fn write_zip_level(
    entries: &[SelectedFile],
    out: File,
    level: u32,
) -> Result<ZipSummary, ZipError> {
    let level = level.clamp(1, 9);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let sizes: Vec<u64> = entries
        .iter()
        .map(|e| std::fs::symlink_metadata(&e.source).map_or(0, |m| m.len().min(LARGE_FILE)))
        .collect();
    let pipe = Pipeline {
        slots: entries.iter().map(|_| Mutex::new(None)).collect(),
        next: AtomicUsize::new(0),
        state: Mutex::new((0, 0)),
        changed: Condvar::new(),
        stop: AtomicBool::new(false),
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| work(&pipe, entries, &sizes, level));
        }
        let result = write_all(&pipe, entries, &sizes, out, level);
        pipe.stop.store(true, Ordering::SeqCst);
        pipe.changed.notify_all();
        result
    })
}

fn work(pipe: &Pipeline, entries: &[SelectedFile], sizes: &[u64], level: u32) {
    loop {
        let i = pipe.next.fetch_add(1, Ordering::SeqCst);
        if i >= entries.len() {
            return;
        }
        {
            let Ok(mut st) = pipe.state.lock() else { return };
            loop {
                if pipe.stop.load(Ordering::SeqCst) {
                    return;
                }
                let (written, in_flight) = *st;
                let fits =
                    i == written || (i < written + WINDOW && in_flight + sizes[i] <= BYTE_BUDGET);
                if fits {
                    st.1 += sizes[i];
                    break;
                }
                st = match pipe.changed.wait(st) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
        }
        let prepared = prepare(&entries[i], level);
        {
            // Filled under the state lock, so the writer cannot miss the wake-up.
            let _state = pipe.state.lock();
            if let Ok(mut slot) = pipe.slots[i].lock() {
                *slot = Some(prepared);
            }
        }
        pipe.changed.notify_all();
    }
}

fn take_slot(pipe: &Pipeline, i: usize) -> Option<Result<Prepared, ZipError>> {
    let mut st = pipe.state.lock().ok()?;
    loop {
        if let Some(p) = pipe.slots[i].lock().ok()?.take() {
            return Some(p);
        }
        st = pipe.changed.wait(st).ok()?;
    }
}

fn write_all(
    pipe: &Pipeline,
    entries: &[SelectedFile],
    sizes: &[u64],
    out: File,
    level: u32,
) -> Result<ZipSummary, ZipError> {
    let mut w = Hashing {
        inner: BufWriter::with_capacity(1 << 20, out),
        sha: Sha256::new(),
        md5: Md5::new(),
        written: 0,
    };
    let mut central = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let prepared = take_slot(pipe, i)
            .ok_or_else(|| ZipError::Write(io::Error::other("worker stopped")))??;
        let offset = w.written;
        let name = entry.path.as_bytes().to_vec();
        match prepared {
            Prepared::Ready { crc, size, deflated, data, mode, dos } => {
                let e = CentralEntry {
                    name,
                    crc,
                    compressed: data.len() as u64,
                    size,
                    offset,
                    deflated,
                    mode,
                    dos,
                    descriptor: false,
                    stream64: false,
                };
                write_local(&mut w, &e).map_err(ZipError::Write)?;
                w.write_all(&data).map_err(ZipError::Write)?;
                central.push(e);
            }
            Prepared::Large => central.push(stream_large(&mut w, entry, name, offset, level)?),
        }
        if let Ok(mut st) = pipe.state.lock() {
            st.0 = i + 1;
            st.1 = st.1.saturating_sub(sizes[i]);
        }
        pipe.changed.notify_all();
    }
    write_central(&mut w, &central).map_err(ZipError::Write)?;
    w.flush().map_err(ZipError::Write)?;
    let size = w.written;
    Ok(ZipSummary {
        size,
        sha256: hex::encode(w.sha.finalize()),
        md5: hex::encode(w.md5.finalize()),
        entries: central.len(),
    })
}

fn stream_large<W: Write>(
    w: &mut Hashing<W>,
    entry: &SelectedFile,
    name: Vec<u8>,
    offset: u64,
    level: u32,
) -> Result<CentralEntry, ZipError> {
    let read_err = |source| ZipError::Read { path: entry.source.clone(), source };
    let mut file = File::open(&entry.source).map_err(read_err)?;
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

const MAX32: u64 = 0xFFFF_FFFF;

fn u32_of(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn write_local<W: Write>(w: &mut W, e: &CentralEntry) -> io::Result<()> {
    let streamed = e.descriptor;
    let zip64 = if streamed { e.stream64 } else { e.size >= MAX32 || e.compressed >= MAX32 };
    let mut h = Vec::with_capacity(30 + e.name.len() + 20);
    h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    h.extend_from_slice(&(if zip64 { 45u16 } else { 20u16 }).to_le_bytes());
    let flags: u16 = (1 << 11) | if streamed { 1 << 3 } else { 0 };
    h.extend_from_slice(&flags.to_le_bytes());
    h.extend_from_slice(&(if e.deflated { 8u16 } else { 0u16 }).to_le_bytes());
    h.extend_from_slice(&e.dos.0.to_le_bytes());
    h.extend_from_slice(&e.dos.1.to_le_bytes());
    if streamed {
        h.extend_from_slice(&0u32.to_le_bytes());
        let unknown = if zip64 { u32::MAX } else { 0 };
        h.extend_from_slice(&unknown.to_le_bytes());
        h.extend_from_slice(&unknown.to_le_bytes());
    } else {
        h.extend_from_slice(&e.crc.to_le_bytes());
        h.extend_from_slice(&(if zip64 { u32::MAX } else { u32_of(e.compressed) }).to_le_bytes());
        h.extend_from_slice(&(if zip64 { u32::MAX } else { u32_of(e.size) }).to_le_bytes());
    }
    h.extend_from_slice(&u16::try_from(e.name.len()).unwrap_or(u16::MAX).to_le_bytes());
    h.extend_from_slice(&(if zip64 { 20u16 } else { 0u16 }).to_le_bytes());
    h.extend_from_slice(&e.name);
    if zip64 {
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(&e.size.to_le_bytes());
        h.extend_from_slice(&e.compressed.to_le_bytes());
    }
    w.write_all(&h)
}

fn write_central<W: Write>(w: &mut Hashing<W>, entries: &[CentralEntry]) -> io::Result<()> {
    let cd_start = w.written;
    for e in entries {
        let mut extra = Vec::new();
        if e.size >= MAX32 {
            extra.extend_from_slice(&e.size.to_le_bytes());
        }
        if e.compressed >= MAX32 {
            extra.extend_from_slice(&e.compressed.to_le_bytes());
        }
        if e.offset >= MAX32 {
            extra.extend_from_slice(&e.offset.to_le_bytes());
        }
        let zip64 = !extra.is_empty();
        let mut h = Vec::with_capacity(46 + e.name.len() + 32);
        h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        h.extend_from_slice(&((3u16 << 8) | 45).to_le_bytes());
        h.extend_from_slice(&(if zip64 { 45u16 } else { 20u16 }).to_le_bytes());
        let flags: u16 = (1 << 11) | if e.descriptor { 1 << 3 } else { 0 };
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&(if e.deflated { 8u16 } else { 0u16 }).to_le_bytes());
        h.extend_from_slice(&e.dos.0.to_le_bytes());
        h.extend_from_slice(&e.dos.1.to_le_bytes());
        h.extend_from_slice(&e.crc.to_le_bytes());
        h.extend_from_slice(
            &u32_of(if e.compressed >= MAX32 { MAX32 } else { e.compressed }).to_le_bytes(),
        );
        h.extend_from_slice(&u32_of(if e.size >= MAX32 { MAX32 } else { e.size }).to_le_bytes());
        h.extend_from_slice(&u16::try_from(e.name.len()).unwrap_or(u16::MAX).to_le_bytes());
        let extra_len = if zip64 { extra.len() + 4 } else { 0 };
        h.extend_from_slice(&u16::try_from(extra_len).unwrap_or(0).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&(e.mode << 16).to_le_bytes());
        h.extend_from_slice(
            &u32_of(if e.offset >= MAX32 { MAX32 } else { e.offset }).to_le_bytes(),
        );
        h.extend_from_slice(&e.name);
        if zip64 {
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&u16::try_from(extra.len()).unwrap_or(0).to_le_bytes());
            h.extend_from_slice(&extra);
        }
        w.write_all(&h)?;
    }
    let cd_end = w.written;
    let cd_size = cd_end - cd_start;
    let count = entries.len() as u64;
    let need64 = count >= 0xFFFF || cd_start >= MAX32 || cd_size >= MAX32;
    let mut t = Vec::with_capacity(98);
    if need64 {
        t.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        t.extend_from_slice(&44u64.to_le_bytes());
        t.extend_from_slice(&((3u16 << 8) | 45).to_le_bytes());
        t.extend_from_slice(&45u16.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&cd_size.to_le_bytes());
        t.extend_from_slice(&cd_start.to_le_bytes());
        t.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(&cd_end.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
    }
    let count16 = if need64 { u16::MAX } else { u16::try_from(count).unwrap_or(u16::MAX) };
    t.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes());
    t.extend_from_slice(&count16.to_le_bytes());
    t.extend_from_slice(&count16.to_le_bytes());
    t.extend_from_slice(&u32_of(if need64 { MAX32 } else { cd_size }).to_le_bytes());
    t.extend_from_slice(&u32_of(if need64 { MAX32 } else { cd_start }).to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes());
    w.write_all(&t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn entries(root: &std::path::Path, files: &[(String, Vec<u8>)]) -> Vec<SelectedFile> {
        files
            .iter()
            .map(|(name, data)| {
                let p = root.join(name);
                fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                fs::write(&p, data).expect("write");
                SelectedFile { source: p, path: name.clone(), kind: EntryKind::File }
            })
            .collect()
    }

    fn random(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect()
    }

    #[test]
    fn archives_read_back_with_the_zip_crate_and_unzip() {
        let dir = tempfile::tempdir().expect("dir");
        let src = dir.path().join("src");
        let text = b"hello kiln\n".repeat(5000);
        let large = usize::try_from(LARGE_FILE).expect("fits");
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("empty.txt".into(), Vec::new()),
            ("text/a.txt".into(), text.clone()),
            ("bin/random.bin".into(), random(300_000, 7)),
            ("img/pic.png".into(), text.clone()),
            ("big/large.log".into(), b"0123456789abcdef".repeat(large / 16 + 1000)),
            ("big/large-random.bin".into(), random(large + 5, 9)),
            ("unicode/\u{e9}t\u{e9}.txt".into(), b"accents".to_vec()),
        ];
        for i in 0..1500 {
            files.push((
                format!("many/f{i:04}.txt"),
                format!("file {i}\n").repeat(i % 50).into_bytes(),
            ));
        }
        let mut list = entries(&src, &files);
        std::os::unix::fs::symlink("text/a.txt", src.join("link")).expect("symlink");
        list.push(SelectedFile {
            source: src.join("link"),
            path: "link".into(),
            kind: EntryKind::Symlink("text/a.txt".into()),
        });

        let out_path = dir.path().join("out.zip");
        let summary = write_zip(&list, File::create(&out_path).expect("create")).expect("zip");
        let bytes = fs::read(&out_path).expect("read");
        assert_eq!(summary.size, bytes.len() as u64);
        assert_eq!(summary.sha256, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(summary.md5, hex::encode(Md5::digest(&bytes)));
        assert_eq!(summary.entries, list.len());

        let mut archive =
            zip::ZipArchive::new(File::open(&out_path).expect("open")).expect("zip crate reads it");
        assert_eq!(archive.len(), list.len());
        for (name, data) in &files {
            let mut f = archive.by_name(name).expect("entry");
            let mut got = Vec::new();
            f.read_to_end(&mut got).expect("read entry");
            assert_eq!(&got, data, "{name}");
        }
        let method = |archive: &mut zip::ZipArchive<File>, name: &str| {
            archive.by_name(name).expect("entry").compression()
        };
        assert_eq!(method(&mut archive, "bin/random.bin"), zip::CompressionMethod::Stored);
        assert_eq!(method(&mut archive, "big/large-random.bin"), zip::CompressionMethod::Stored);
        assert_eq!(method(&mut archive, "img/pic.png"), zip::CompressionMethod::Stored);
        assert_eq!(method(&mut archive, "text/a.txt"), zip::CompressionMethod::Deflated);
        assert_eq!(method(&mut archive, "big/large.log"), zip::CompressionMethod::Deflated);
        let link_mode = archive.by_name("link").expect("link").unix_mode();
        assert_eq!(link_mode.map(|m| m & 0o170_000), Some(0o120_000));

        match std::process::Command::new("unzip").arg("-tq").arg(&out_path).output() {
            Ok(o) => assert!(
                o.status.success(),
                "unzip -t: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(_) => eprintln!("skipping unzip -t: unzip is not installed"),
        }
    }

    #[test]
    fn an_unreadable_input_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().expect("dir");
        let list = vec![SelectedFile {
            source: dir.path().join("gone"),
            path: "gone".into(),
            kind: EntryKind::File,
        }];
        let err = write_zip(&list, File::create(dir.path().join("o.zip")).expect("create"))
            .expect_err("missing");
        assert!(matches!(err, ZipError::Read { .. }));
    }
}
