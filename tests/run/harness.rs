//! Running one build of a temporary project called `proj` the way `kiln run` does — recorded,
//! launched with the in-process runner, finalized — and reading back what happened: phases,
//! status, log, files, the typed summary.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kiln_agent::Agent;
use kiln_agent::output::LogSink;
use kiln_core::build::{BuildSummary, NameValue, SourceSpec};
use kiln_core::ports::BuildAgent;
use kiln_core::project::{Project as ProjectSettings, ProjectArtifacts, load_catalog};
use kiln_core::service::{BuildPlan, Settings};
use kiln_local::{FileSecretStore, FsObjectStore, run_local_build};
use serde_json::Value;

/// What a local run is asked, as `kiln run`'s flags say it.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// `--source`.
    pub source: PathBuf,
    /// `--buildspec`.
    pub buildspec: Option<String>,
    /// `--project`.
    pub project: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--env NAME=VALUE`, in order.
    pub env: Vec<(String, String)>,
    /// `--timeout`.
    pub timeout: Option<std::time::Duration>,
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// `--in-place`.
    pub in_place: bool,
}

impl LocalOptions {
    fn project(&self) -> ProjectSettings {
        let Some(config) = &self.config else {
            let name = self.project.clone().unwrap_or_else(|| "proj".to_owned());
            return ProjectSettings {
                artifacts: Some(ProjectArtifacts {
                    artifacts_type: Some("S3".into()),
                    location: Some("kiln-artifacts".into()),
                    namespace_type: Some("BUILD_ID".into()),
                    packaging: Some("NONE".into()),
                    name: Some(name.clone()),
                    ..ProjectArtifacts::default()
                }),
                name,
                ..ProjectSettings::default()
            };
        };
        let text = std::fs::read_to_string(config).expect("catalog");
        let catalog = load_catalog(&text).expect("valid catalog");
        match &self.project {
            Some(name) => catalog.get(name).cloned().expect("project in catalog"),
            None => catalog.projects[0].clone(),
        }
    }

    fn plan(&self) -> BuildPlan {
        BuildPlan {
            key: uuid::Uuid::new_v4().to_string(),
            source: SourceSpec::Directory {
                path: self.source.clone(),
                in_place: self.in_place,
                exclude: vec![self.data_dir.clone()],
            },
            source_version: None,
            resolved_source_version: None,
            initiator: "tester".to_owned(),
            timeout_seconds: self.timeout.map(|t| t.as_secs()),
            with_secrets: true,
            buildspec_override: self.buildspec.clone(),
            builtin_variables: Vec::new(),
            environment_variables_override: self
                .env
                .iter()
                .map(|(n, v)| NameValue::new(n.clone(), v.clone()))
                .collect(),
            webhook: None,
            report_on: None,
        }
    }
}

/// A log written to memory.
#[derive(Clone, Default)]
pub struct Memory(Arc<Mutex<Vec<u8>>>);

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Memory {
    /// Everything written so far.
    pub fn text(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

/// A temporary project `proj` with a data directory beside it.
pub struct Project {
    /// Keeps the directory alive.
    _dir: tempfile::TempDir,
    /// The source directory (`…/proj`).
    pub source: PathBuf,
    /// The data directory.
    pub data_dir: PathBuf,
}

impl Project {
    /// A project whose files are `files` (path, content); directories are made as needed.
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let source = dir.path().join("proj");
        std::fs::create_dir_all(&source).expect("source directory");
        kiln_tests::write_files(&source, files);
        let data_dir = dir.path().join("data");
        Self { _dir: dir, source, data_dir }
    }

    /// Options for a run of this project.
    pub fn options(&self) -> LocalOptions {
        LocalOptions {
            source: self.source.clone(),
            data_dir: self.data_dir.clone(),
            ..LocalOptions::default()
        }
    }

    /// Runs one build with `options` and `secrets` (a NAME=VALUE text).
    pub fn run_with(&self, options: &LocalOptions, secrets: &str) -> Outcome {
        std::fs::create_dir_all(&options.data_dir).expect("data directory");
        let data_dir = options.data_dir.canonicalize().expect("data directory");
        let memory = Memory::default();
        let sink = LogSink::new(&[], vec![Box::new(memory.clone())]);
        let store = Arc::new(FsObjectStore::new(&data_dir));
        let secrets = Arc::new(FileSecretStore::parse(secrets).expect("secrets text"));
        let agent_sink = sink.clone();
        let make_agent =
            move |_: &kiln_core::build::Build| -> std::io::Result<Arc<dyn BuildAgent>> {
                Ok(Arc::new(Agent::new(store, secrets, agent_sink)))
            };
        let project = options.project();
        let mut plan = options.plan();
        plan.source = match plan.source {
            SourceSpec::Directory { path, in_place, .. } => {
                SourceSpec::Directory { path, in_place, exclude: vec![data_dir.clone()] }
            }
            other => other,
        };
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let done = runtime
            .block_on(run_local_build(
                &Settings::local(None, None),
                &project,
                plan,
                &data_dir,
                make_agent,
                std::future::pending(),
            ))
            .expect("the build ran through");
        sink.flush();
        let typed = done.summary.expect("the agent wrote a summary");
        let objects =
            kiln_tests::stored_objects(&data_dir, "").into_iter().map(|(key, _)| key).collect();
        let src = if options.in_place {
            options.source.clone()
        } else {
            data_dir
                .join(kiln_core::build::layout::build_prefix(&done.build.build_ref()))
                .join("src")
        };
        Outcome {
            objects,
            summary: serde_json::to_value(&typed).expect("summary as JSON"),
            typed,
            log: memory.text(),
            src,
        }
    }

    /// Runs one build with default options.
    pub fn run(&self) -> Outcome {
        self.run_with(&self.options(), "")
    }
}

/// What a build did.
pub struct Outcome {
    /// The BatchGetBuilds JSON.
    pub summary: Value,
    /// The summary the agent handed back, as read from the build store.
    pub typed: BuildSummary,
    /// The whole log.
    pub log: String,
    /// The working copy.
    pub src: PathBuf,
    /// `bucket/key` of every object the build stored.
    pub objects: Vec<String>,
}

impl Outcome {
    /// The build status.
    pub fn status(&self) -> &str {
        self.summary["buildStatus"].as_str().unwrap_or_default()
    }

    /// Every phase entered, in order, with its status, from DOWNLOAD_SOURCE on.
    pub fn phases(&self) -> Vec<(String, String)> {
        self.summary["phases"]
            .as_array()
            .map(|phases| {
                phases
                    .iter()
                    .map(|p| {
                        (
                            p["phaseType"].as_str().unwrap_or_default().to_owned(),
                            p["phaseStatus"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .skip_while(|(t, _)| t != "DOWNLOAD_SOURCE")
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The phase types entered, from DOWNLOAD_SOURCE on.
    pub fn phase_types(&self) -> Vec<String> {
        self.phases().into_iter().map(|(t, _)| t).collect()
    }

    /// The status of `phase`, if it was entered.
    pub fn phase(&self, phase: &str) -> Option<String> {
        self.phases().into_iter().find(|(t, _)| t == phase).map(|(_, s)| s)
    }

    /// The first context of `phase`: (statusCode, message).
    pub fn context(&self, phase: &str) -> Option<(String, String)> {
        let phases = self.summary["phases"].as_array()?;
        let p = phases.iter().find(|p| p["phaseType"] == phase)?;
        let c = p["contexts"].as_array()?.first()?;
        Some((c["statusCode"].as_str()?.to_owned(), c["message"].as_str()?.to_owned()))
    }

    /// The content of a file of the working copy, without its final newline.
    pub fn file(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.src.join(path))
            .ok()
            .map(|s| s.trim_end_matches('\n').to_owned())
    }

    /// Whether the log has a `Running command <command>` line.
    pub fn ran(&self, command: &str) -> bool {
        self.log.lines().any(|l| l.ends_with(&format!(" Running command {command}")))
    }
}

/// The phases a build enters when nothing fails.
pub const ALL_PHASES: [&str; 8] = [
    "DOWNLOAD_SOURCE",
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
    "FINALIZING",
    "COMPLETED",
];
