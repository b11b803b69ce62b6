//! `codebuild-hash-files GLOB...` (also `kiln-hash-files`): a stable hash of files for cache keys.
//!
//! Output: one line, the hex SHA-256 of, for every file the globs select under the current
//! directory (CodeBuild's glob rules), in path order: its relative path, a NUL byte, the hex
//! SHA-256 of its contents, and a newline. The same files with the same contents always give
//! the same line, wherever the checkout is. No matching file prints the hash of nothing, with a
//! warning on stderr, and still exits 0 so a `$(...)` key stays usable. Exit 2 on usage or
//! read errors. Files are selected as artifacts are: never through a link out of the current
//! directory, never with a path whose `..` leads outside it (a warning on stderr each).

use std::io::Write;
use std::path::Path;

use kiln_core::artifacts::Selection;
use sha2::{Digest, Sha256};

use super::walk::{find, open_regular};

/// The names the agent links to itself and dispatches here by `argv[0]`.
pub const TOOL_NAMES: [&str; 2] = ["codebuild-hash-files", "kiln-hash-files"];

/// Runs the command with `args` (without the program name); returns the exit code.
pub fn hash_files_main(args: &[String]) -> i32 {
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        eprintln!("usage: codebuild-hash-files GLOB...");
        return 2;
    }
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("codebuild-hash-files: cannot read the current directory: {e}");
            return 2;
        }
    };
    match hash_files(&cwd, args) {
        Ok((hash, 0)) => {
            eprintln!("codebuild-hash-files: warning: no file matches {}", args.join(" "));
            print_line(&hash)
        }
        Ok((hash, _)) => print_line(&hash),
        Err(e) => {
            eprintln!("codebuild-hash-files: {e}");
            2
        }
    }
}

fn print_line(hash: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{hash}").is_err() { 2 } else { 0 }
}

/// The hash of the files `globs` select under `dir`, and how many there were.
pub fn hash_files(dir: &Path, globs: &[String]) -> std::io::Result<(String, usize)> {
    let found = find(dir, &Selection { files: globs, ..Default::default() });
    for refused in &found.selected.refused {
        eprintln!("codebuild-hash-files: warning: {refused}");
    }
    let selected = found.selected;
    let mut total = Sha256::new();
    for f in &selected.files {
        let mut file = open_regular(&f.source)?;
        let mut h = Sha256::new();
        std::io::copy(&mut file, &mut h)?;
        total.update(f.path.as_bytes());
        total.update([0u8]);
        total.update(hex::encode(h.finalize()).as_bytes());
        total.update(b"\n");
    }
    Ok((hex::encode(total.finalize()), selected.files.len()))
}

/// Creates `dir` and links every name of [`TOOL_NAMES`] in it to `exe`, replacing old links.
pub fn install_tools(dir: &Path, exe: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for name in TOOL_NAMES {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_ok() {
            std::fs::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(exe, &link)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_paths_and_contents_only() {
        let a = tempfile::tempdir().expect("dir");
        let b = tempfile::tempdir().expect("dir");
        for d in [a.path(), b.path()] {
            std::fs::write(d.join("package-lock.json"), b"{}").expect("write");
            std::fs::write(d.join("other.txt"), b"x").expect("write");
        }
        let globs = vec!["package-lock.json".to_owned()];
        let (ha, na) = hash_files(a.path(), &globs).expect("hash");
        let (hb, _) = hash_files(b.path(), &globs).expect("hash");
        assert_eq!((ha.len(), na), (64, 1));
        assert_eq!(ha, hb);
        std::fs::write(b.path().join("package-lock.json"), b"{\"a\":1}").expect("write");
        assert_ne!(hash_files(b.path(), &globs).expect("hash").0, ha);
        let (none, n) = hash_files(a.path(), &["nothing*".to_owned()]).expect("hash");
        assert_eq!((none, n), (hex::encode(Sha256::digest(b"")), 0));
    }

    #[test]
    fn files_behind_a_link_out_of_the_directory_are_not_hashed() {
        let dir = tempfile::tempdir().expect("dir");
        let (src, outside) = (dir.path().join("src"), dir.path().join("outside"));
        std::fs::create_dir_all(&src).expect("src");
        std::fs::create_dir_all(&outside).expect("outside");
        std::fs::write(outside.join("secret"), b"s").expect("write");
        std::fs::write(src.join("lock"), b"l").expect("write");
        std::os::unix::fs::symlink(&outside, src.join("out")).expect("link");
        std::os::unix::fs::symlink(outside.join("secret"), src.join("s")).expect("link");
        let globs = vec!["**/*".to_owned(), "../outside/secret".to_owned()];
        let (with_links, n) = hash_files(&src, &globs).expect("hash");
        assert_eq!(n, 1);
        let (alone, _) = hash_files(&src, &["lock".to_owned()]).expect("hash");
        assert_eq!(with_links, alone);
    }

    #[test]
    fn install_tools_links_both_names() {
        let dir = tempfile::tempdir().expect("dir");
        let exe = dir.path().join("kiln-agent");
        std::fs::write(&exe, b"").expect("write");
        install_tools(&dir.path().join("bin"), &exe).expect("install");
        install_tools(&dir.path().join("bin"), &exe).expect("install twice");
        for name in TOOL_NAMES {
            assert_eq!(std::fs::read_link(dir.path().join("bin").join(name)).expect("link"), exe);
        }
    }
}
