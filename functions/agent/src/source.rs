//! The build's working copy: a fresh copy of the user's source tree, so a build never dirties
//! it, and the commit it was taken from.
//!
//! In a git work tree the copy holds the tracked files plus the untracked files git does not
//! ignore (`git ls-files -co --exclude-standard`), as they are on disk (uncommitted changes
//! included); elsewhere it holds everything. The `.git` directory is not copied [INF: CodeBuild
//! clones one; a local build works on the files]. The data directory is always skipped, even
//! when it sits inside the source. Symbolic links are copied as links.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why the working copy could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Listing or copying files failed.
    #[error("copy {path} into the working copy")]
    Copy {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `git ls-files` failed in a git work tree.
    #[error("list the files of the git work tree {0}")]
    Git(PathBuf, #[source] io::Error),
}

/// Whether `dir` is inside a git work tree (and git is installed).
pub fn is_git_work_tree(dir: &Path) -> bool {
    git(dir, &["rev-parse", "--is-inside-work-tree"]).is_some_and(|out| out.trim() == "true")
}

/// The SHA of `HEAD` when `dir` is in a git work tree with at least one commit.
pub fn head_sha(dir: &Path) -> Option<String> {
    git(dir, &["rev-parse", "--verify", "-q", "HEAD"])
        .map(|s| s.trim().to_owned())
        .filter(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out =
        Command::new("git").arg("-C").arg(dir).args(args).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Copies `source` into the new directory `dest`, leaving out `skip` (the data directory).
pub fn copy_source(source: &Path, dest: &Path, skip: &Path) -> Result<usize, SourceError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SourceError::Copy { path, source }
    };
    std::fs::create_dir_all(dest).map_err(err(dest))?;
    let skip = skip.canonicalize().unwrap_or_else(|_| skip.to_path_buf());
    let files: Vec<PathBuf> = if is_git_work_tree(source) {
        let out = Command::new("git")
            .arg("-C")
            .arg(source)
            .args(["ls-files", "-z", "-co", "--exclude-standard"])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| SourceError::Git(source.to_path_buf(), e))?;
        if !out.status.success() {
            return Err(SourceError::Git(
                source.to_path_buf(),
                io::Error::other("git ls-files failed"),
            ));
        }
        out.stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect()
    } else {
        walkdir::WalkDir::new(source)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| e.path().canonicalize().map_or(true, |p| p != skip))
            .filter_map(Result::ok)
            .filter_map(|e| e.path().strip_prefix(source).ok().map(Path::to_path_buf))
            .collect()
    };
    let mut copied = 0;
    for rel in files {
        let from = source.join(&rel);
        if from.canonicalize().is_ok_and(|p| p.starts_with(&skip)) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&from) else { continue };
        let to = dest.join(&rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(err(parent))?;
        }
        if meta.is_dir() {
            std::fs::create_dir_all(&to).map_err(err(&to))?;
            continue;
        }
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&from).map_err(err(&from))?;
            std::os::unix::fs::symlink(target, &to).map_err(err(&to))?;
        } else if meta.is_file() {
            std::fs::copy(&from, &to).map_err(err(&from))?;
        } else {
            continue;
        }
        copied += 1;
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_everything_but_the_data_dir() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("a/b"))?;
        std::fs::create_dir_all(src.join(".kiln/builds"))?;
        std::fs::write(src.join("a/b/f.txt"), "x")?;
        std::fs::write(src.join(".kiln/builds/old"), "x")?;
        std::os::unix::fs::symlink("a/b/f.txt", src.join("link"))?;
        let dest = dir.path().join("copy");
        let n = copy_source(&src, &dest, &src.join(".kiln"))?;
        assert_eq!(n, 2);
        assert_eq!(std::fs::read_to_string(dest.join("a/b/f.txt"))?, "x");
        assert!(std::fs::symlink_metadata(dest.join("link"))?.file_type().is_symlink());
        assert!(!dest.join(".kiln").exists());
        Ok(())
    }

    #[test]
    fn git_tree_copies_tracked_and_untracked_not_ignored() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let src = dir.path().join("repo");
        std::fs::create_dir_all(&src)?;
        let sh = |script: &str| Command::new("sh").arg("-c").arg(script).current_dir(&src).output();
        if !sh("git init -q && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m x")?
            .status
            .success()
        {
            eprintln!("skipping: git is not usable here");
            return Ok(());
        }
        std::fs::write(src.join(".gitignore"), "ignored.txt\n.kiln/\n")?;
        std::fs::write(src.join("tracked.txt"), "t")?;
        std::fs::write(src.join("ignored.txt"), "i")?;
        std::fs::write(src.join("new.txt"), "n")?;
        sh(
            "git add tracked.txt .gitignore && git -c user.email=a@b -c user.name=a commit -q -m y",
        )?;
        assert!(head_sha(&src).is_some());
        let dest = dir.path().join("copy");
        copy_source(&src, &dest, &src.join(".kiln"))?;
        assert!(dest.join("tracked.txt").exists());
        assert!(dest.join("new.txt").exists());
        assert!(!dest.join("ignored.txt").exists());
        assert!(!dest.join(".git").exists());
        Ok(())
    }
}
