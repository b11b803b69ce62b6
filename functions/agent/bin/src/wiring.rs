//! The agent's adapters, wired from its configuration: the description read, the stores and
//! secrets of where it runs, the stop signals, the summary handed back.

use std::process::ExitCode;

use kiln_agent::build::AgentPorts;
use kiln_agent::output::LogSink;
use kiln_core::build::{BuildDescription, BuildRef, DescriptionError, Status};
use kiln_core::ports::{BuildStore, PortError, StopFlag};
use kiln_local::{FileSecretStore, FsBuildStore, FsObjectStore};

use crate::config::Config;

/// Why the agent could not run the build.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The description could not be read.
    #[error("read the build description {0}")]
    Read(String, #[source] std::io::Error),
    /// The description is too large or unreadable.
    #[error("read the build description {0}")]
    Limit(String, #[source] kiln_core::limits::LimitError),
    /// The description is not one.
    #[error("read the build description {0}")]
    Description(String, #[source] DescriptionError),
    /// The secrets file could not be read.
    #[error(transparent)]
    Secrets(#[from] kiln_local::secrets::SecretsFileError),
    /// The summary could not be stored.
    #[error("store the build summary")]
    Summary(#[source] PortError),
    /// The summary file could not be written.
    #[error("write the summary {0}")]
    SummaryFile(String, #[source] std::io::Error),
}

/// Runs the build `config` describes; the exit code says how it ended.
///
/// # Errors
/// [`AgentError`] when the build could not start or its summary could not be handed back.
pub async fn run(config: Config) -> Result<ExitCode, AgentError> {
    let name = config.description.display().to_string();
    let file =
        std::fs::File::open(&config.description).map_err(|e| AgentError::Read(name.clone(), e))?;
    let bytes = kiln_core::limits::read_limited(file, kiln_core::limits::BUILD_DESCRIPTION)
        .map_err(|e| AgentError::Limit(name.clone(), e))?;
    let description =
        BuildDescription::from_json(&bytes).map_err(|e| AgentError::Description(name, e))?;
    let secrets = match &config.secrets {
        Some(path) => FileSecretStore::open(path)?,
        None => FileSecretStore::empty(),
    };
    let store = FsObjectStore::new(&config.data_dir);
    let builds = FsBuildStore::new(&config.data_dir);
    let stdout: Box<dyn std::io::Write + Send> = Box::new(std::io::stdout());
    let sink = LogSink::new(&[], vec![stdout]);
    let stop = StopFlag::default();
    if let Err(e) = kiln_agent::process::become_subreaper() {
        eprintln!("kiln-agent: warning: {}", kiln_core::error_chain(&e));
    }
    let watcher = stop.clone();
    tokio::spawn(async move {
        if let Err(e) = kiln_agent::signals::watch(watcher).await {
            eprintln!("kiln-agent: {}", kiln_core::error_chain(&e));
        }
    });
    let token = crate::config::git_token();
    let ports = AgentPorts { store: &store, secrets: &secrets, git_credential: token.as_ref() };
    let summary = kiln_agent::run(&description, ports, &sink, &stop).await;
    let at = BuildRef::new(description.build.project.clone(), description.build.number);
    builds.put_summary(&at, &summary).await.map_err(AgentError::Summary)?;
    if let Some(path) = &config.summary {
        let file = path.display().to_string();
        let json =
            summary.to_json().map_err(|e| AgentError::SummaryFile(file.clone(), e.into()))?;
        std::fs::write(path, json).map_err(|e| AgentError::SummaryFile(file, e))?;
    }
    Ok(if summary.build_status == Status::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
