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
