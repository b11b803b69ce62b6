//! Running one build through the agent library in a temporary project called `proj`, and
//! reading back what happened: phases, status, log, files, summary.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kiln_agent::build::{Ports, run_build};
use kiln_agent::local::{LocalOptions, prepare};
use kiln_agent::output::LogSink;
use kiln_agent::shell::StopFlag;
use kiln_local::{FileSecretStore, FsObjectStore};
use serde_json::Value;

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
        let prepared = prepare(options).expect("build set up");
        let memory = Memory::default();
        let sink = LogSink::new(&[], vec![Box::new(memory.clone())]);
        let store = FsObjectStore::new(&prepared.data_dir);
        let secrets = FileSecretStore::parse(secrets).expect("secrets text");
        let ports = Ports { store: &store, secrets: &secrets };
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let summary =
            runtime.block_on(run_build(&prepared.request, ports, &sink, &StopFlag::default()));
        sink.flush();
        let objects = kiln_tests::stored_objects(&prepared.data_dir, "")
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        Outcome {
            objects,
            summary: summary.to_json(),
            log: memory.text(),
            src: prepared.request.src_dir.clone(),
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
