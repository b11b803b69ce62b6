//! The writer: the worker pool, the in-order appender and what it returns.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use kiln_core::artifacts::SelectedFile;
use md5::Md5;
use sha2::{Digest, Sha256};

use super::entry::{LARGE_FILE, Prepared, prepare, stream_large};
use super::error::ZipError;
use super::records::{CentralEntry, Hashing, safe_name, write_central, write_local};

/// How far ahead of the writer the workers may prepare entries.
const WINDOW: usize = 512;
/// At most this many bytes of prepared entries wait in memory.
const BYTE_BUDGET: u64 = 96 << 20;
/// The deflate level kiln uses. Level 4 of zlib-rs gives archives within about 3 % of
/// Info-ZIP's default (`-6`) on mixed text and binary trees, at about 1.4× the speed of level 6
/// (measured with `scripts/bench-upload`).
pub const DEFAULT_LEVEL: u32 = 4;

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
    if let Some(bad) = entries.iter().find(|e| !safe_name(&e.path)) {
        return Err(ZipError::UnsafeName { name: bad.path.clone() });
    }
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
