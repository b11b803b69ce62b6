//! Helpers shared by kiln's end-to-end tests: where the shared corpora are, temporary projects.

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
