//! Helpers shared by kiln's end-to-end tests: where the shared corpora are, the kiln binary,
//! files of temporary projects, objects of the local store.

use std::path::PathBuf;

/// The folder of real-world inputs (`../shared/corpora` beside the repository), or `None`
/// with a message on stderr when this checkout has no `../shared` beside it.
pub fn corpora() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent (no ../shared beside this checkout)", dir.display());
        None
    }
}

/// The `kiln` binary of this workspace, built once for these tests.
pub fn kiln() -> std::process::Command {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let bin = BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "kiln", "--bin", "kiln"])
            .current_dir(&root)
            .status()
            .expect("cargo build");
        assert!(status.success(), "building kiln failed");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        target.join("debug").join(format!("kiln{}", std::env::consts::EXE_SUFFIX))
    });
    std::process::Command::new(bin)
}

/// Writes `files` (path relative to `root`, content) under `root`, making directories as needed.
pub fn write_files(root: &std::path::Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("directories");
        std::fs::write(path, content).expect("file");
    }
}

/// Every object the local object store (`kiln_local::FsObjectStore`) holds under `data_dir`
/// in `bucket`, or in every bucket when `bucket` is empty (keys are then `bucket/key`), as
/// (key, file on disk), in key order.
pub fn stored_objects(data_dir: &std::path::Path, bucket: &str) -> Vec<(String, PathBuf)> {
    let root = data_dir.join("s3").join(bucket);
    let mut objects: Vec<_> = walk(&root)
        .into_iter()
        .map(|p| (p.strip_prefix(&root).expect("under root").to_string_lossy().into_owned(), p))
        .collect();
    objects.sort();
    objects
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
