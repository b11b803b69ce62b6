//! The build's source: a fresh copy of the user's source tree (so a build never dirties it) or
//! a git repository fetched at a commit, and the commit it was taken from.
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
    /// A git source could not be fetched.
    #[error("{what} of {url}")]
    Fetch {
        /// The repository (never with a credential).
        url: String,
        /// The step that failed.
        what: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// The credential a build fetches its git source with, handed to the agent once and taken
/// once: [`FetchCredential::take`] moves it out, so the agent can drop it (its memory zeroed,
/// as [`secrecy::SecretString`] does) as soon as the fetch is done, before the first command
/// of the build.
#[derive(Default)]
pub struct FetchCredential(std::sync::Mutex<Option<secrecy::SecretString>>);

impl FetchCredential {
    /// A credential to hand over, or none.
    pub fn new(token: Option<secrecy::SecretString>) -> Self {
        Self(std::sync::Mutex::new(token))
    }

    /// The credential, the first time; `None` after.
    pub fn take(&self) -> Option<secrecy::SecretString> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }
}

impl std::fmt::Debug for FetchCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FetchCredential(***)")
    }
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
///
/// `skip` is compared with the listed paths lexically (both made absolute and free of
/// symbolic links first), never by following a listed entry: a link inside the data directory
/// that points elsewhere is still inside it. File names are kept as bytes, so names that are
/// not UTF-8 are copied too.
pub fn copy_source(source: &Path, dest: &Path, skip: &Path) -> Result<usize, SourceError> {
    use std::os::unix::ffi::OsStrExt;
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SourceError::Copy { path, source }
    };
    std::fs::create_dir_all(dest).map_err(err(dest))?;
    let root = source.canonicalize().map_err(err(source))?;
    let skip_rel = skip
        .canonicalize()
        .ok()
        .and_then(|s| s.strip_prefix(&root).ok().map(Path::to_path_buf))
        .filter(|rel| !rel.as_os_str().is_empty());
    let skipped = |rel: &Path| skip_rel.as_deref().is_some_and(|s| rel.starts_with(s));
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
            .map(|p| PathBuf::from(std::ffi::OsStr::from_bytes(p)))
            .filter(|rel| !skipped(rel))
            .collect()
    } else {
        walkdir::WalkDir::new(source)
            .min_depth(1)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.path().strip_prefix(source).map_or(true, |rel| !skipped(rel)))
            .filter_map(Result::ok)
            .filter_map(|e| e.path().strip_prefix(source).ok().map(Path::to_path_buf))
            .collect()
    };
    let mut copied = 0;
    for rel in files {
        let from = source.join(&rel);
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

/// Fetches `git` into the new directory `dest` and checks out its commit, as CodeBuild's
/// GitHub source does: a work tree with its `.git`, `HEAD` detached at the commit.
///
/// The ref is fetched first (`refs/pull/8/head`, a branch, a tag), to `gitCloneDepth` when set;
/// when the commit is not among what arrived (the ref moved on, or the history is too shallow),
/// the commit itself is fetched. The credential, when given, reaches git only through its
/// environment (`http.extraHeader` set with `GIT_CONFIG_*`), so it is never written to
/// `.git/config`, a command line or the log.
///
/// kiln uses the `git` binary rather than an embedded implementation [choice]: the work tree
/// it leaves is exactly git's (submodules, shallow history, hooks a build may run), and images
/// CodeBuild users build on carry git; an image without git fails DOWNLOAD_SOURCE saying so.
pub fn fetch_git(
    git: &kiln_core::build::GitSource,
    dest: &Path,
    credential: Option<&secrecy::SecretString>,
) -> Result<String, SourceError> {
    let fail = |what: &str, e: io::Error| SourceError::Fetch {
        url: git.url.clone(),
        what: what.to_owned(),
        source: e,
    };
    std::fs::create_dir_all(dest).map_err(|e| fail("create the source directory", e))?;
    let run = |what: &str, args: &[&str]| -> Result<String, SourceError> {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(dest).args(args).stdin(Stdio::null());
        cmd.env("GIT_TERMINAL_PROMPT", "0").env_remove("GIT_DIR").env_remove("GIT_WORK_TREE");
        if let Some(token) = credential {
            use base64_header::basic;
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", basic(token));
        }
        let out = cmd.output().map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                fail(what, io::Error::other("git is not installed in the build image"))
            } else {
                fail(what, e)
            }
        })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("failed");
            Err(fail(what, io::Error::other(last.trim().to_owned())))
        }
    };
    run("initialise the repository", &["init", "-q"])?;
    run("add the remote", &["remote", "add", "origin", &git.url])?;
    let depth = git.clone_depth.filter(|d| *d > 0).map(|d| format!("--depth={d}"));
    let mut fetch = vec!["fetch", "-q", "--no-tags", "origin"];
    let target =
        git.fetch_ref.clone().or_else(|| git.commit.as_ref().map(|c| c.as_str().to_owned()));
    let Some(target) = target else {
        return Err(fail("choose what to fetch", io::Error::other("neither a commit nor a ref")));
    };
    if let Some(d) = &depth {
        fetch.insert(2, d);
    }
    fetch.push(&target);
    if let Err(e) = run("fetch", &fetch) {
        // The ref may be gone or never advertised (a closed pull request); the commit itself
        // can still be fetched by its id, as GitHub allows.
        let Some(commit) = git.commit.as_ref().filter(|c| c.as_str() != target) else {
            return Err(e);
        };
        let mut by_id = vec!["fetch", "-q", "--no-tags", "origin", commit.as_str()];
        if let Some(d) = &depth {
            by_id.insert(2, d);
        }
        run("fetch the commit", &by_id).map_err(|_| e)?;
    }
    let checkout = match &git.commit {
        Some(commit) => {
            let present =
                run("look for the commit", &["cat-file", "-e", &format!("{commit}^{{commit}}")])
                    .is_ok();
            if !present {
                let mut again = vec!["fetch", "-q", "--no-tags", "origin", commit.as_str()];
                if let Some(d) = &depth {
                    again.insert(2, d);
                }
                run("fetch the commit", &again)?;
            }
            commit.as_str().to_owned()
        }
        None => "FETCH_HEAD".to_owned(),
    };
    run("check out the commit", &["checkout", "-q", "--detach", &checkout])?;
    if git.fetch_submodules {
        let mut sub = vec!["submodule", "update", "-q", "--init", "--recursive"];
        if let Some(d) = &depth {
            sub.push(d);
        }
        run("fetch the submodules", &sub)?;
    }
    run("read the commit", &["rev-parse", "HEAD"])
}

/// The `Authorization` header git sends with a token.
mod base64_header {
    use secrecy::{ExposeSecret, SecretString};

    /// `Authorization: Basic <base64 of x-access-token:TOKEN>` (GitHub's form for tokens).
    pub fn basic(token: &SecretString) -> String {
        let raw = format!("x-access-token:{}", token.expose_secret());
        format!("Authorization: Basic {}", encode(raw.as_bytes()))
    }

    fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn encodes_like_base64() {
            assert_eq!(super::encode(b"x-access-token:abc"), "eC1hY2Nlc3MtdG9rZW46YWJj");
            assert_eq!(super::encode(b"ab"), "YWI=");
            assert_eq!(super::encode(b"a"), "YQ==");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_taken_once() {
        use secrecy::ExposeSecret;
        let credential = FetchCredential::new(Some("t0ken".into()));
        assert_eq!(format!("{credential:?}"), "FetchCredential(***)");
        assert_eq!(
            credential.take().map(|t| t.expose_secret().to_owned()).as_deref(),
            Some("t0ken")
        );
        assert!(credential.take().is_none());
    }

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

    #[test]
    fn a_link_inside_the_data_dir_pointing_out_is_still_skipped()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join(".kiln/builds/1/src"))?;
        std::fs::write(src.join("outside.txt"), "o")?;
        std::os::unix::fs::symlink(src.join("outside.txt"), src.join(".kiln/builds/1/src/l"))?;
        let dest = dir.path().join("copy");
        copy_source(&src, &dest, &src.join(".kiln"))?;
        assert!(dest.join("outside.txt").exists());
        assert!(std::fs::symlink_metadata(dest.join(".kiln")).is_err());
        Ok(())
    }

    #[test]
    fn names_that_are_not_utf8_are_copied() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir()?;
        let src = dir.path().join("repo");
        std::fs::create_dir_all(&src)?;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(src.join(name), "x")?;
        let ok = Command::new("sh")
            .arg("-c")
            .arg("git init -q && git add -A && git -c user.email=a@b -c user.name=a commit -qm x")
            .current_dir(&src)
            .status()?
            .success();
        if !ok {
            eprintln!("skipping: git is not usable here");
            return Ok(());
        }
        let dest = dir.path().join("copy");
        assert_eq!(copy_source(&src, &dest, &src.join(".kiln"))?, 1);
        assert!(dest.join(name).exists());
        Ok(())
    }
}
