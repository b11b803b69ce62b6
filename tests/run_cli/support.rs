//! Running `kiln run` on a temporary source directory and reading back its exit code, output,
//! summary and the local object store.

use std::path::PathBuf;

pub use kiln_tests::kiln;
use kiln_tests::{stored_objects, write_files};
use serde_json::Value;

/// A source directory `proj` and a data directory beside it, kept until dropped.
pub struct Workspace {
    dir: tempfile::TempDir,
}

/// What one `kiln run` did.
pub struct Run {
    /// The exit code.
    pub code: Option<i32>,
    /// Standard output (the log).
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The `--summary` JSON (`Null` when none was written).
    pub summary: Value,
}

impl Workspace {
    /// A workspace whose source holds `files` (path, content).
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let ws = Self { dir };
        std::fs::create_dir_all(ws.source()).expect("source directory");
        ws.write(files);
        ws
    }

    /// Writes (or replaces) files of the source directory.
    pub fn write(&self, files: &[(&str, &str)]) {
        write_files(&self.source(), files);
    }

    /// The source directory.
    pub fn source(&self) -> PathBuf {
        self.dir.path().join("proj")
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A file beside the source (for catalogs, summaries).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `kiln run --source proj --data-dir data --summary summary.json ARGS...`.
    pub fn run(&self, args: &[&str]) -> Run {
        let summary = self.path("summary.json");
        let _ = std::fs::remove_file(&summary);
        let output = kiln()
            .arg("run")
            .arg("--source")
            .arg(self.source())
            .arg("--data-dir")
            .arg(self.data())
            .arg("--summary")
            .arg(&summary)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run kiln");
        let summary = std::fs::read_to_string(&summary)
            .map(|text| serde_json::from_str(&text).expect("summary is JSON"))
            .unwrap_or(Value::Null);
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            summary,
        }
    }

    /// Every object key of `bucket` in the local store, sorted.
    pub fn objects(&self, bucket: &str) -> Vec<String> {
        stored_objects(&self.data(), bucket).into_iter().map(|(key, _)| key).collect()
    }

    /// The bytes of one stored object.
    pub fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        std::fs::read(self.data().join("s3").join(bucket).join(key)).expect("object")
    }

    /// The working copy of build `number`.
    pub fn working_copy(&self, number: u32) -> PathBuf {
        self.data().join("builds/proj").join(number.to_string()).join("src")
    }
}

impl Run {
    /// The build status.
    pub fn status(&self) -> &str {
        self.summary["buildStatus"].as_str().unwrap_or_default()
    }

    /// The status of `phase`, when the build entered it.
    pub fn phase(&self, phase: &str) -> Option<&str> {
        self.summary["phases"]
            .as_array()?
            .iter()
            .find(|p| p["phaseType"] == phase)
            .and_then(|p| p["phaseStatus"].as_str())
    }

    /// The log and stderr, for assertion messages.
    pub fn output(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }

    /// The UUID part of the build id.
    pub fn uuid(&self) -> &str {
        self.summary["id"].as_str().and_then(|id| id.split_once(':')).map_or("", |(_, u)| u)
    }
}
