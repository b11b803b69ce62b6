//! The build description the `kiln-agent` binary runs: one JSON document naming the project,
//! the build's identity, the source and where to write the summary.
//!
//! Read from the file given as the first argument, or from the `KILN_BUILD_DESCRIPTION`
//! environment variable (the JSON text itself), so a container can receive it either way.
//! The agent in a container sets `HOME=/root` as CodeBuild does.

use std::path::PathBuf;

use kiln_core::build::{BuildIdentity, HomeMode};
use kiln_core::ports::UnavailableObjectStore;
use kiln_core::project::Project;
use serde::Deserialize;

use crate::build::{BuildRequest, BuildspecSource};

/// One build, as handed to the agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDescription {
    /// The project's settings.
    pub project: Project,
    /// The build's UUID.
    pub uuid: String,
    /// The build number.
    pub build_number: u64,
    /// The region.
    #[serde(default = "default_region")]
    pub region: String,
    /// The account id.
    #[serde(default = "default_account")]
    pub account: String,
    /// `CODEBUILD_SRC_DIR`: the checked-out source.
    pub src_dir: PathBuf,
    /// `buildspecOverride`: a path in the source or an inline buildspec.
    #[serde(default)]
    pub buildspec_override: Option<String>,
    /// `environmentVariablesOverride`.
    #[serde(default)]
    pub environment_variables_override: Vec<NameValue>,
    /// More built-in variables (`CODEBUILD_WEBHOOK_*`).
    #[serde(default)]
    pub builtin_variables: Vec<NameValue>,
    /// `CODEBUILD_SOURCE_VERSION`.
    #[serde(default)]
    pub source_version: Option<String>,
    /// `CODEBUILD_RESOLVED_SOURCE_VERSION`.
    #[serde(default)]
    pub resolved_source_version: Option<String>,
    /// `CODEBUILD_INITIATOR`.
    #[serde(default)]
    pub initiator: String,
    /// `CODEBUILD_START_TIME`, epoch milliseconds.
    pub start_time_ms: i64,
    /// Where the shell keeps its state.
    pub state_dir: PathBuf,
    /// Where to write the summary JSON.
    pub summary_path: PathBuf,
}

/// A `{name, value}` pair.
#[derive(Debug, Clone, Deserialize)]
pub struct NameValue {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_account() -> String {
    "000000000000".into()
}

impl BuildDescription {
    /// The build request for this description, with `base_env` as the image's environment.
    pub fn request(&self, base_env: Vec<(String, String)>) -> BuildRequest {
        let pairs =
            |v: &[NameValue]| v.iter().map(|nv| (nv.name.clone(), nv.value.clone())).collect();
        let buildspec = BuildspecSource::from_setting(
            self.buildspec_override
                .as_deref()
                .or_else(|| self.project.source.as_ref().and_then(|s| s.buildspec.as_deref())),
        );
        BuildRequest {
            identity: BuildIdentity {
                project: self.project.name.clone(),
                uuid: self.uuid.clone(),
                number: self.build_number,
                region: self.region.clone(),
                account: self.account.clone(),
            },
            project: self.project.clone(),
            src_dir: self.src_dir.clone(),
            buildspec,
            base_env,
            overrides: pairs(&self.environment_variables_override),
            builtins: pairs(&self.builtin_variables),
            home: HomeMode::Root,
            start_ms: self.start_time_ms,
            source_version: self.source_version.clone(),
            resolved_source_version: self.resolved_source_version.clone(),
            initiator: self.initiator.clone(),
            timeout: std::time::Duration::from_secs(
                u64::from(self.project.timeout_in_minutes.unwrap_or(60)) * 60,
            ),
            state_dir: self.state_dir.clone(),
        }
    }
}

/// The agent binary: reads the description, runs the build, writes the summary.
pub fn main_with(path: Option<String>) -> std::process::ExitCode {
    use std::process::ExitCode;
    let text = match path {
        Some(path) => std::fs::read_to_string(&path).map_err(|e| format!("read {path}: {e}")),
        None => std::env::var("KILN_BUILD_DESCRIPTION")
            .map_err(|_| "give a build description file or set KILN_BUILD_DESCRIPTION".to_owned()),
    };
    let description = match text.and_then(|t| {
        serde_json::from_str::<BuildDescription>(&t)
            .map_err(|e| format!("invalid build description: {e}"))
    }) {
        Ok(d) => d,
        Err(message) => {
            eprintln!("kiln-agent: {message}");
            return ExitCode::from(2);
        }
    };
    let request = description
        .request(std::env::vars().filter(|(k, _)| k != "KILN_BUILD_DESCRIPTION").collect());
    let stdout: Box<dyn std::io::Write + Send> = {
        use std::os::fd::AsFd;
        match std::io::stdout().as_fd().try_clone_to_owned() {
            Ok(fd) => Box::new(std::fs::File::from(fd)),
            Err(_) => Box::new(std::io::stdout()),
        }
    };
    let sink = crate::output::LogSink::new(&[], vec![stdout]);
    let secrets = kiln_local::FileSecretStore::empty();
    let store = UnavailableObjectStore;
    let ports = crate::build::Ports { store: &store, secrets: &secrets };
    let stop = crate::shell::StopFlag::default();
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("kiln-agent: start the runtime: {e}");
                return ExitCode::from(2);
            }
        };
    let summary = runtime.block_on(async {
        let watcher = stop.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::signals::watch(watcher).await {
                eprintln!("kiln-agent: {}", crate::error_text::error_chain(&e));
            }
        });
        if let Err(e) = crate::process::become_subreaper() {
            eprintln!("kiln-agent: warning: {}", crate::error_text::error_chain(&e));
        }
        crate::build::run_build(&request, ports, &sink, &stop).await
    });
    let json = serde_json::to_string_pretty(&summary.to_json()).unwrap_or_default();
    if let Err(e) = std::fs::write(&description.summary_path, json + "\n") {
        eprintln!("kiln-agent: write summary {}: {e}", description.summary_path.display());
    }
    if summary.status == kiln_core::build::Status::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_description() -> Result<(), serde_json::Error> {
        let d: BuildDescription = serde_json::from_str(
            r#"{"project":{"name":"p","timeoutInMinutes":5},"uuid":"u","buildNumber":3,"srcDir":"/src",
                "environmentVariablesOverride":[{"name":"A","value":"1"}],"startTimeMs":1,
                "stateDir":"/tmp/s","summaryPath":"/tmp/summary.json"}"#,
        )?;
        let r = d.request(vec![]);
        assert_eq!(r.identity.id(), "p:u");
        assert_eq!(r.timeout.as_secs(), 300);
        assert_eq!(r.home, HomeMode::Root);
        assert_eq!(r.overrides, [("A".to_owned(), "1".to_owned())]);
        Ok(())
    }
}
