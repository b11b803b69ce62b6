//! Helpers of the UPLOAD_ARTIFACTS end-to-end tests: a source tree, a local object store in a
//! temporary data dir, and `upload`/`restore_cache` run directly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kiln_agent::upload::{UploadInput, UploadOutcome, restore_cache, upload};
use kiln_core::build::BuildIdentity;
use kiln_core::buildspec::{Buildspec, Env, Phases, Proxy, Version};
use kiln_core::ports::ObjectStore;
use kiln_core::project::Project;
use kiln_local::FsObjectStore;

pub const UUID: &str = "0f8e2a7c-1111-4222-8333-444455556666";

pub fn buildspec() -> Buildspec {
    Buildspec {
        version: Version::V0_2,
        run_as: None,
        env: Env::default(),
        proxy: Proxy::default(),
        batch: None,
        phases: Phases::default(),
        reports: Vec::new(),
        artifacts: None,
        cache: None,
    }
}

pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: FsObjectStore,
    pub build: BuildIdentity,
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsObjectStore::new(dir.path().join("data"));
        let build = BuildIdentity {
            project: "proj".into(),
            uuid: UUID.into(),
            number: 7,
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        std::fs::create_dir_all(dir.path().join("src")).expect("src");
        Self { dir, store, build }
    }

    pub fn src(&self) -> PathBuf {
        self.dir.path().join("src")
    }

    pub fn write(&self, files: &[&str]) {
        write_tree(&self.src(), files);
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())),
            ("CODEBUILD_BUILD_NUMBER".into(), self.build.number.to_string()),
            ("CODEBUILD_SRC_DIR".into(), self.src().display().to_string()),
        ]
    }

    /// Every object of `bucket` on disk, key → contents.
    pub fn objects(&self, bucket: &str) -> BTreeMap<String, Vec<u8>> {
        kiln_tests::stored_objects(&self.dir.path().join("data"), bucket)
            .into_iter()
            .map(|(key, path)| (key, std::fs::read(path).expect("read")))
            .collect()
    }

    pub async fn upload(
        &self,
        spec: &Buildspec,
        project: &Project,
    ) -> (UploadOutcome, Vec<String>) {
        self.upload_in(spec, project, &self.src(), &self.store).await
    }

    pub async fn upload_in(
        &self,
        spec: &Buildspec,
        project: &Project,
        src: &Path,
        store: &dyn ObjectStore,
    ) -> (UploadOutcome, Vec<String>) {
        let env = self.env();
        let mut lines = Vec::new();
        let outcome =
            upload(&self.input(spec, project, src, store, &env), &mut |l| lines.push(l)).await;
        (outcome, lines)
    }

    pub async fn restore_in(
        &self,
        spec: &Buildspec,
        project: &Project,
        src: &Path,
        store: &dyn ObjectStore,
    ) -> Vec<String> {
        let env = self.env();
        let mut lines = Vec::new();
        restore_cache(&self.input(spec, project, src, store, &env), &mut |l| lines.push(l)).await;
        lines
    }

    fn input<'a>(
        &'a self,
        buildspec: &'a Buildspec,
        project: &'a Project,
        src_dir: &'a Path,
        store: &'a dyn ObjectStore,
        env: &'a [(String, String)],
    ) -> UploadInput<'a> {
        static NO_STOP: std::sync::OnceLock<kiln_agent::shell::StopFlag> =
            std::sync::OnceLock::new();
        UploadInput {
            buildspec,
            project,
            build: &self.build,
            src_dir,
            env,
            shell: "sh",
            store,
            deadline: None,
            stop: NO_STOP.get_or_init(Default::default),
        }
    }
}

pub fn write_tree(root: &Path, files: &[&str]) {
    for f in files {
        let p = root.join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, format!("contents of {f}")).expect("write");
    }
}

/// One entry of a hand-made cache archive; names and link targets are written as given, so
/// an archive can say what a hostile one would.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// A regular file: name, contents, mode.
    File(&'a str, &'a [u8], u32),
    /// A symbolic link: name, target.
    Link(&'a str, &'a str),
    /// A directory: name, mode.
    Dir(&'a str, u32),
    /// A hard link: name, target.
    HardLink(&'a str, &'a str),
    /// A named pipe.
    Fifo(&'a str),
    /// A character device (1, 3: `/dev/null`).
    CharDevice(&'a str),
}

/// A tar + zstd archive of `entries`, in the format of kiln's cache entries.
pub fn raw_archive(entries: &[Raw<'_>]) -> Vec<u8> {
    use tar::EntryType;
    let mut builder = tar::Builder::new(zstd::Encoder::new(Vec::new(), 3).expect("zstd"));
    for entry in entries {
        let (name, kind, link, data, mode): (&str, EntryType, &str, &[u8], u32) = match *entry {
            Raw::File(n, d, m) => (n, EntryType::Regular, "", d, m),
            Raw::Link(n, t) => (n, EntryType::Symlink, t, b"", 0o777),
            Raw::Dir(n, m) => (n, EntryType::Directory, "", b"", m),
            Raw::HardLink(n, t) => (n, EntryType::Link, t, b"", 0o644),
            Raw::Fifo(n) => (n, EntryType::Fifo, "", b"", 0o644),
            Raw::CharDevice(n) => (n, EntryType::Char, "", b"", 0o666),
        };
        let mut header = tar::Header::new_gnu();
        let gnu = header.as_gnu_mut().expect("a gnu header");
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(1_700_000_000);
        if kind == EntryType::Char {
            header.set_device_major(1).expect("major");
            header.set_device_minor(3).expect("minor");
        }
        header.set_cksum();
        builder.append(&header, data).expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("zstd")
}

/// Every file, link and directory under `dir`, relative, sorted (nothing for a missing dir).
pub fn tree_of(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries {
            let e = e.expect("entry");
            let p = e.path();
            out.push(p.strip_prefix(root).expect("under root").display().to_string());
            if e.file_type().expect("type").is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
