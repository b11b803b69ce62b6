//! Helpers shared by kiln's end-to-end tests: where the shared corpora are, the workspace's
//! binaries, files of temporary projects, objects of the local store, git repositories, a
//! running `kiln serve`, a small HTTP client, the AWS emulator and a Lambda Runtime API emulator.

use std::path::PathBuf;

pub mod git_http;
pub mod http;
pub mod lambda;
pub mod moto;
pub mod serve;

/// The folder of real-world inputs (`../shared/corpora` beside the repository), or `None`
/// with a message on stderr when this checkout has no `../shared` beside it.
pub fn corpora() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent: CI runs beside ../shared and must not skip the corpus tests",
            dir.display()
        );
        eprintln!("skipping: {} is absent (no ../shared beside this checkout)", dir.display());
        None
    }
}

/// A binary of this workspace (`kiln`, `kiln-agent`): the one `cargo test` built beside the
/// test executables (`target/<profile>/`), or, when a test runs on its own and it is missing,
/// built once with `cargo build`.
pub fn workspace_binary(name: &str) -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().and_then(std::path::Path::parent).map(|d| d.join(name)));
    if let Some(path) = beside.filter(|p| p.is_file()) {
        return path;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet", "--bin", name])
        .current_dir(&root)
        .status()
        .expect("cargo build");
    assert!(status.success(), "building {name} failed");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("debug").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The `kiln` binary of this workspace.
pub fn kiln() -> std::process::Command {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    std::process::Command::new(BIN.get_or_init(|| workspace_binary("kiln")))
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

/// A git repository on disk with one commit per [`GitRepo::commit`], cloneable by URL
/// (`file://` here; `git http-backend` serves the same directory over HTTP).
#[derive(Debug)]
pub struct GitRepo {
    /// The work tree commits are made in.
    pub work: PathBuf,
    /// The bare repository the URL points at.
    pub bare: PathBuf,
}

impl GitRepo {
    /// The directory of bare repositories (`root/git`) a [`git_http::GitHttp`] serves.
    pub fn root(&self) -> PathBuf {
        self.bare
            .parent()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    }

    /// A new repository `owner/name` under `root` (bare copy at `root/git/owner/name.git`).
    pub fn new(root: &std::path::Path, full_name: &str) -> Self {
        let work = root.join("work").join(full_name);
        let bare = root.join("git").join(format!("{full_name}.git"));
        std::fs::create_dir_all(&work).expect("work tree");
        std::fs::create_dir_all(&bare).expect("bare repository");
        git(&bare, &["init", "-q", "--bare"]);
        git(&work, &["init", "-q", "-b", "main"]);
        let url = format!("file://{}", bare.display());
        git(&work, &["remote", "add", "origin", &url]);
        Self { work, bare }
    }

    /// The URL to clone it by.
    pub fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// Writes `files`, commits them with `message` on `main`, pushes; returns the commit.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        write_files(&self.work, files);
        git(&self.work, &["add", "-A"]);
        git(
            &self.work,
            &["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message],
        );
        git(&self.work, &["push", "-q", "origin", "HEAD:refs/heads/main"]);
        git(&self.work, &["rev-parse", "HEAD"]).trim().to_owned()
    }
}

/// Runs `git` in `dir`, panicking with its stderr when it fails; returns its stdout.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out =
        std::process::Command::new("git").args(args).current_dir(dir).output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
