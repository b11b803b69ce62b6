//! Side-by-side benchmark of kiln's artifact ZIP and cache archive against the usual tools.
//!
//! Run with `scripts/bench-upload` (or `cargo bench -p kiln-agent --bench upload`). It
//! generates realistic trees (a mix of text and random bytes; a node_modules-like tree of
//! small JavaScript files with `.bin` links), then times, on the same data:
//! - ZIP packaging: kiln's writer versus `zip -qr` (Info-ZIP, default level);
//! - cache save + restore: kiln's tar + zstd pack and unpack versus `tar czf` + `tar xzf`.
//!
//! Each side runs `KILN_BENCH_RUNS` times (default 1) and the best time counts. Sizes:
//! `KILN_BENCH_FILES` (default 20000) files totalling `KILN_BENCH_MIB` MiB (default 1024) for
//! the ZIP, `KILN_BENCH_NODE_FILES` (default 30000) files for the cache tree;
//! `KILN_BENCH_ZIP_LEVEL` (default: kiln's; Info-ZIP runs at its default, 6) for kiln's deflate level.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kiln_agent::upload::archive::{ArchiveEntry, pack, unpack};
use kiln_agent::upload::walk::find;
use kiln_agent::upload::zip::{DEFAULT_LEVEL, write_zip_level};
use kiln_core::artifacts::Selection;
use kiln_core::cache::CachePaths;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const WORDS: &[&str] = &[
    "function",
    "return",
    "const",
    "let",
    "if",
    "else",
    "for",
    "while",
    "import",
    "export",
    "from",
    "class",
    "this",
    "new",
    "await",
    "async",
    "true",
    "false",
    "null",
    "undefined",
    "value",
    "result",
    "error",
    "data",
    "config",
    "options",
    "module",
    "require",
    "props",
    "state",
    "index",
    "length",
    "push",
    "map",
    "filter",
    "=",
    "=>",
    "{",
    "}",
    "(",
    ")",
    ";",
    "[",
    "]",
    ".",
    ",",
    "0",
    "1",
    "42",
    "\"use strict\"",
    "// TODO",
];

fn text(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 16);
    let mut col = 0;
    while out.len() < size {
        let w = WORDS[usize::try_from(rng.below(WORDS.len() as u64)).unwrap_or(0)];
        out.extend_from_slice(w.as_bytes());
        col += w.len() + 1;
        if col > 60 + usize::try_from(rng.below(40)).unwrap_or(0) {
            out.push(b'\n');
            col = 0;
        } else {
            out.push(b' ');
        }
        if rng.below(97) == 0 {
            out.extend_from_slice(format!("{:x}", rng.next()).as_bytes());
        }
    }
    out.truncate(size);
    out
}

fn random(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(size);
    out
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// 70 % of the files text, 30 % random bytes, sizes skewed (many small, a few large).
fn generate_mixed(root: &Path, files: u64, total: u64) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let weights: Vec<u64> =
        (0..files).map(|_| 1 + rng.below(64) * rng.below(64) + rng.below(16)).collect();
    let sum: u64 = weights.iter().sum();
    for (i, w) in weights.iter().enumerate() {
        let size = usize::try_from(total * w / sum).unwrap_or(0);
        let dir = root.join(format!("pkg{:03}/sub{:02}", i % 200, (i / 200) % 10));
        fs::create_dir_all(&dir).expect("mkdir");
        let (name, data) = if rng.below(10) < 7 {
            (format!("file{i}.js"), text(&mut rng, size))
        } else {
            (format!("blob{i}.bin"), random(&mut rng, size))
        };
        fs::write(dir.join(name), data).expect("write");
    }
}

fn generate_node_modules(root: &Path, files: u64) {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let nm = root.join("node_modules");
    fs::create_dir_all(nm.join(".bin")).expect("mkdir");
    for i in 0..files {
        let pkg = i / 25;
        let dir = nm.join(format!("pkg-{pkg}/lib/{}", i % 5));
        fs::create_dir_all(&dir).expect("mkdir");
        let size =
            usize::try_from(200 + rng.below(6000) + if rng.below(50) == 0 { 60_000 } else { 0 })
                .unwrap_or(0);
        fs::write(dir.join(format!("m{i}.js")), text(&mut rng, size)).expect("write");
        if i % 25 == 0 {
            fs::write(
                nm.join(format!("pkg-{pkg}/package.json")),
                format!("{{\"name\":\"pkg-{pkg}\",\"version\":\"1.0.{i}\"}}"),
            )
            .expect("write");
            if pkg % 10 == 0 {
                let _ = std::os::unix::fs::symlink(
                    format!("../pkg-{pkg}/lib/0/m{i}.js"),
                    nm.join(format!(".bin/cli-{pkg}")),
                );
            }
        }
    }
}

fn best(runs: u64, mut f: impl FnMut()) -> Duration {
    (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The (save, restore) times of the run whose total is the smallest.
fn best_pair(runs: u64, mut f: impl FnMut() -> (Duration, Duration)) -> (Duration, Duration) {
    (0..runs.max(1)).map(|_| f()).min_by_key(|(a, b)| *a + *b).unwrap_or_default()
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("start the baseline tool");
    assert!(status.success(), "{cmd:?} failed");
}

fn size_of(p: &Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn line(
    what: &str,
    kiln: Duration,
    base: Duration,
    base_name: &str,
    kiln_size: u64,
    base_size: u64,
) {
    println!(
        "{what:<28} kiln {:>8.2}s ({:>6.1} MiB)   {base_name:<18} {:>8.2}s ({:>6.1} MiB)   ratio {:>5.2}x",
        kiln.as_secs_f64(),
        kiln_size as f64 / 1048576.0,
        base.as_secs_f64(),
        base_size as f64 / 1048576.0,
        base.as_secs_f64() / kiln.as_secs_f64().max(1e-9)
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs = env_num("KILN_BENCH_RUNS", 1);
    let work = tempfile::tempdir().expect("temp dir");
    let w = work.path();

    let files = env_num("KILN_BENCH_FILES", 20_000);
    let mib = env_num("KILN_BENCH_MIB", 1024);
    let tree = w.join("artifact");
    generate_mixed(&tree, files, mib << 20);
    let selected = find(&tree, &Selection { files: &["**/*".to_owned()], ..Default::default() })
        .selected
        .files;
    let level = u32::try_from(env_num("KILN_BENCH_ZIP_LEVEL", u64::from(DEFAULT_LEVEL)))
        .unwrap_or(DEFAULT_LEVEL);
    let kiln_zip = w.join("kiln.zip");
    let info_zip = w.join("info.zip");
    let kiln = best(runs, || {
        let _ = fs::remove_file(&kiln_zip);
        write_zip_level(&selected, fs::File::create(&kiln_zip).expect("create"), level)
            .expect("zip");
    });
    let base = best(runs, || {
        let _ = fs::remove_file(&info_zip);
        run(Command::new("zip").arg("-qr").arg(&info_zip).arg(".").current_dir(&tree));
    });
    println!(
        "ZIP packaging: {} files, {mib} MiB (70% text, 30% random bytes), kiln level {level}, best of {runs}",
        selected.len()
    );
    line("zip", kiln, base, "zip -qr", size_of(&kiln_zip), size_of(&info_zip));
    let _ = fs::remove_dir_all(&tree);
    let _ = fs::remove_file(&kiln_zip);
    let _ = fs::remove_file(&info_zip);

    let node_files = env_num("KILN_BENCH_NODE_FILES", 30_000);
    let src = w.join("src");
    generate_node_modules(&src, node_files);
    let entries: Vec<ArchiveEntry> = find(
        &src,
        &Selection {
            files: &["node_modules".to_owned()],
            keep_symlinks: true,
            ..Default::default()
        },
    )
    .selected
    .files
    .into_iter()
    .map(|f| ArchiveEntry { name: format!("s/{}", f.path), file: f })
    .collect();
    let kiln_archive = w.join("cache.tar.zst");
    let tgz = w.join("cache.tgz");
    let restore_kiln = w.join("restore-kiln");
    let restore_tar = w.join("restore-tar");
    let (kiln_save, kiln_restore) = best_pair(runs, || {
        let _ = fs::remove_dir_all(&restore_kiln);
        fs::create_dir_all(&restore_kiln).expect("mkdir");
        let t = Instant::now();
        pack(&entries, fs::File::create(&kiln_archive).expect("create")).expect("pack");
        let save = t.elapsed();
        let t = Instant::now();
        let paths = CachePaths::new(&["node_modules".to_owned()], None);
        unpack(fs::File::open(&kiln_archive).expect("open"), &paths, &restore_kiln)
            .expect("unpack");
        (save, t.elapsed())
    });
    let (tar_save, tar_restore) = best_pair(runs, || {
        let _ = fs::remove_dir_all(&restore_tar);
        fs::create_dir_all(&restore_tar).expect("mkdir");
        let t = Instant::now();
        run(Command::new("tar").arg("czf").arg(&tgz).arg("node_modules").current_dir(&src));
        let save = t.elapsed();
        let t = Instant::now();
        run(Command::new("tar").arg("xzf").arg(&tgz).current_dir(&restore_tar));
        (save, t.elapsed())
    });
    let (kiln_total, tar_total) = (kiln_save + kiln_restore, tar_save + tar_restore);
    let restored: PathBuf = restore_kiln.join("node_modules");
    assert!(restored.join(".bin").is_dir(), "the kiln restore produced the tree");
    println!("Cache: node_modules-like tree, {} entries, best of {runs}", entries.len());
    line("cache save", kiln_save, tar_save, "tar czf", size_of(&kiln_archive), size_of(&tgz));
    line("cache restore", kiln_restore, tar_restore, "tar xzf", 0, 0);
    line("cache save + restore", kiln_total, tar_total, "tar czf + xzf", 0, 0);
}
