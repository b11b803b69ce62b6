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
