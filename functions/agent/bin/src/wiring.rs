//! The agent's adapters, wired from its configuration: the description and stores of where it
//! runs ([`crate::local`] or [`crate::task`]), the stop signals, the log on stdout, the summary
//! handed back, the exit code.

use std::process::ExitCode;

use kiln_agent::build::AgentPorts;
use kiln_agent::output::LogSink;
use kiln_agent::source::FetchCredential;
use kiln_core::build::{BuildDescription, BuildRef, Status};
use kiln_core::ports::{BuildStore, ObjectStore, PortError, SecretStore, StopFlag};

use crate::config::{Config, ConfigError, Origin};

/// Why the agent could not run the build.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Arguments that do not go together.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A local description or secrets file could not be read.
    #[error(transparent)]
    Local(#[from] crate::local::LocalError),
    /// The description in S3 could not be read.
    #[error(transparent)]
    Handover(#[from] kiln_aws::ecs::HandoverError),
    /// The summary could not be stored.
    #[error("store the build summary")]
    Summary(#[source] PortError),
    /// The summary file could not be written.
    #[error("write the summary {0}")]
    SummaryFile(String, #[source] std::io::Error),
}

/// A build ready to run: its description and the adapters of where it runs.
pub struct Wired {
    /// The description.
    pub description: BuildDescription,
    /// Where artifacts, reports and caches go.
    pub store: Box<dyn ObjectStore>,
    /// Where secret variables come from.
    pub secrets: Box<dyn SecretStore>,
    /// Where the summary goes.
    pub builds: Box<dyn BuildStore>,
    /// The credential that fetches a git source.
    pub credential: FetchCredential,
}

/// Runs the build `config` describes; the exit code says how it ended.
///
/// # Errors
/// [`AgentError`] when the build could not start or its summary could not be handed back.
pub async fn run(config: Config) -> Result<ExitCode, AgentError> {
    let wired = match config.origin()? {
        Origin::Local { description, data_dir, secrets } => {
            crate::local::wire(&description, &data_dir, secrets.as_deref())?
        }
        Origin::Task { description, source_token } => {
            crate::task::wire(&description, source_token.as_ref()).await?
        }
    };
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
    let ports = AgentPorts {
        store: wired.store.as_ref(),
        secrets: wired.secrets.as_ref(),
        git_credential: Some(&wired.credential),
    };
    let description = &wired.description;
    let summary = kiln_agent::run(description, ports, &sink, &stop).await;
    let at = BuildRef::new(description.build.project.clone(), description.build.number);
    wired.builds.put_summary(&at, &summary).await.map_err(AgentError::Summary)?;
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
