//! The server's state: the catalog, the services' settings and every adapter, built once.

use std::path::PathBuf;
use std::sync::Arc;

use kiln_core::build::BuildRef;
use kiln_core::ports::{
    CommitStatus, PortError, PortErrorKind, PortFuture, PullRequestDetails, SourceCredentials,
    SourceHost, StatusReporter, SystemClock,
};
use kiln_core::project::load_catalog;
use kiln_core::service::{Ports, Projects, Settings};
use kiln_core::status::PageLinks;
use kiln_core::webhook::{CommitSha, RepoFullName};
use kiln_local::{AgentCommand, FsBuildStore, ProcessTaskRunner, RecordingBuildEvents, TaskEnded};
use secrecy::SecretString;
use tokio::sync::mpsc;

use super::config::{Config, GitHubAuth, ServeError};

/// Everything a request or a background task needs.
pub struct App {
    /// The catalog.
    pub projects: Projects,
    /// Region, account, page links.
    pub settings: Settings,
    /// The webhook secret.
    pub secret: SecretString,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Build state.
    pub builds: FsBuildStore,
    /// The agent's child processes.
    pub runner: ProcessTaskRunner,
    /// Commit statuses.
    pub statuses: Arc<dyn StatusReporter>,
    /// Pull request details and files at a commit.
    pub source: Arc<dyn SourceHost>,
    /// The clock.
    pub clock: SystemClock,
    /// Build state changes (no bus on one machine: accepted and dropped).
    pub events: RecordingBuildEvents,
}

impl App {
    /// The server's state for `config`, and the channel task ends arrive on.
    ///
    /// # Errors
    /// [`ServeError`] when the catalog or GitHub cannot be set up.
    pub fn new(
        config: &Config,
        public_url: String,
    ) -> Result<(Arc<Self>, mpsc::UnboundedReceiver<TaskEnded>), ServeError> {
        let text = crate::input::read_text(&config.catalog, kiln_core::limits::CATALOG)
            .map_err(|e| ServeError::Catalog(crate::print::chain(&e)))?;
        let file = config.catalog.display().to_string();
        let catalog = load_catalog(&text).map_err(|e| {
            let lines: Vec<String> =
                e.diagnostics().iter().map(|d| d.render_with_path(&file, &text)).collect();
            ServeError::Catalog(format!("invalid project catalog {file}\n{}", lines.join("\n")))
        })?;
        for w in &catalog.warnings {
            eprintln!("{}", w.render_with_path(&file, &text));
        }
        let host = kiln_core::project::github_host_of_api_url(&config.github_api)
            .unwrap_or_else(|| kiln_core::project::DEFAULT_GITHUB_HOST.to_owned());
        let projects = Projects::with_host(catalog, &host)
            .map_err(|e| ServeError::Catalog(format!("{file}: {e}")))?;
        let (statuses, source, credentials) = github(config)?;
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        let runner = ProcessTaskRunner::new(
            AgentCommand { program: config.agent.clone(), secrets: config.secrets.clone() },
            &config.data_dir,
            config.max_parallel,
            credentials,
            ended_tx,
        );
        let mut settings = config.settings.clone();
        settings.pages = Some(PageLinks { base_url: public_url, signing_key: None });
        let app = Self {
            projects,
            settings,
            secret: config.webhook_secret.clone(),
            data_dir: config.data_dir.clone(),
            builds: FsBuildStore::new(&config.data_dir),
            runner,
            statuses,
            source,
            clock: SystemClock,
            events: RecordingBuildEvents::discarding(),
        };
        Ok((Arc::new(app), ended_rx))
    }

    /// The ports the services get.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            builds: &self.builds,
            runner: &self.runner,
            statuses: self.statuses.as_ref(),
            source: self.source.as_ref(),
            clock: &self.clock,
            events: &self.events,
        }
    }

    /// The page links.
    pub fn links(&self) -> PageLinks {
        self.settings
            .pages
            .clone()
            .unwrap_or(PageLinks { base_url: String::new(), signing_key: None })
    }

    /// Where the object at `s3://bucket/key` is on this machine.
    pub fn local_object(&self, location: &str) -> Option<String> {
        let rest =
            location.strip_prefix("s3://").or_else(|| location.strip_prefix("arn:aws:s3:::"))?;
        let (bucket, key) = rest.split_once('/')?;
        let path = kiln_local::FsObjectStore::new(&self.data_dir).object_path(bucket, key);
        Some(path.display().to_string())
    }

    /// Now, in epoch milliseconds.
    pub fn clock_now(&self) -> i64 {
        kiln_core::ports::Clock::now_ms(&self.clock)
    }

    /// The log of `build` on disk.
    pub fn log_path(&self, build: &BuildRef) -> PathBuf {
        self.data_dir.join(kiln_core::build::layout::log_key(build))
    }
}

type GitHubPorts =
    (Arc<dyn StatusReporter>, Arc<dyn SourceHost>, Option<Arc<dyn SourceCredentials>>);

fn github(config: &Config) -> Result<GitHubPorts, ServeError> {
    match &config.github {
        GitHubAuth::None => {
            eprintln!(
                "kiln serve: no GitHub credentials (GITHUB_TOKEN or KILN_GITHUB_APP_ID): builds run, commit statuses are not posted"
            );
            Ok((Arc::new(NoGitHub), Arc::new(NoGitHub), None))
        }
        GitHubAuth::Token(token) => connect(config, kiln_github::GitHubAuth::token(token.clone())),
        GitHubAuth::App { id, key } => {
            connect(config, kiln_github::GitHubAuth::app(*id, key.clone()))
        }
    }
}

/// GitHub's adapters for `auth`: statuses and reads retried briefly (a webhook reply waits for
/// them), source tokens for builds (with a personal token, the token itself: `kiln serve` runs
/// builds on its owner's machine).
fn connect(config: &Config, auth: kiln_github::GitHubAuth) -> Result<GitHubPorts, ServeError> {
    let github = kiln_github::GitHubConfig::new(auth)
        .api_url(config.github_api.clone())
        .retry(kiln_github::RetryPolicy::intake())
        .personal_token_for_builds(true);
    let client =
        kiln_github::GitHubClient::new(github).map_err(|e| ServeError::GitHub(Box::new(e)))?;
    let statuses = kiln_github::GitHubStatusReporter::new(client.clone());
    let source = kiln_github::GitHubSourceHost::new(client.clone());
    Ok((Arc::new(statuses), Arc::new(source), Some(Arc::new(client))))
}

/// What stands for GitHub when kiln has no credentials for it: statuses are dropped with a log
/// line, and nothing can be read.
struct NoGitHub;

impl StatusReporter for NoGitHub {
    fn post<'a>(&'a self, status: &'a CommitStatus) -> PortFuture<'a, ()> {
        tracing::info!(state = %status.state, commit = %status.commit, context = %status.context, "commit status not posted: no GitHub credentials");
        Box::pin(async { Ok(()) })
    }
}

impl SourceHost for NoGitHub {
    fn pull_request_details<'a>(
        &'a self,
        _: &'a RepoFullName,
        number: u64,
        _: &'a CommitSha,
    ) -> PortFuture<'a, PullRequestDetails> {
        let e = PortError::new(
            PortErrorKind::Unavailable,
            format!("read pull request #{number}: no GitHub credentials"),
        );
        Box::pin(async move { Err(e) })
    }

    fn file_at<'a>(
        &'a self,
        _: &'a RepoFullName,
        _: &'a CommitSha,
        path: &'a str,
    ) -> PortFuture<'a, Vec<u8>> {
        let e = PortError::new(
            PortErrorKind::Unavailable,
            format!("read {path}: no GitHub credentials"),
        );
        Box::pin(async move { Err(e) })
    }
}
