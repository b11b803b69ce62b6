//! The ZIP records: local headers, the central directory and its end records, the hashing
//! writer they go through, and the check of entry names.

use std::io::{self, Write};
use std::time::SystemTime;

use md5::Md5;
use sha2::{Digest, Sha256};

pub(super) struct Hashing<W: Write> {
    pub(super) inner: W,
    pub(super) sha: Sha256,
    pub(super) md5: Md5,
    pub(super) written: u64,
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

pub(super) struct CentralEntry {
    pub(super) name: Vec<u8>,
    pub(super) crc: u32,
    pub(super) compressed: u64,
    pub(super) size: u64,
    pub(super) offset: u64,
    pub(super) deflated: bool,
    pub(super) mode: u32,
    pub(super) dos: (u16, u16),
    pub(super) descriptor: bool,
    /// A streamed entry whose local header carries a ZIP64 extra (it may reach 4 GiB).
    pub(super) stream64: bool,
}

pub(super) fn dos_time(mtime: Option<SystemTime>) -> (u16, u16) {
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

pub(super) const MAX32: u64 = 0xFFFF_FFFF;

pub(super) fn u32_of(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

pub(super) fn write_local<W: Write>(w: &mut W, e: &CentralEntry) -> io::Result<()> {
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

pub(super) fn write_central<W: Write>(
    w: &mut Hashing<W>,
    entries: &[CentralEntry],
) -> io::Result<()> {
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

/// Whether `name` is safe to store: relative, not empty, and without a `..` segment whether
/// `/` or `\\` separates segments.
pub(super) fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['/', '\\'])
        && !name.split(['/', '\\']).any(|s| s == "..")
}
