//! `kiln run`: one build of a working tree on this machine, as the cloud would run it.
//!
//! Exit codes: 0 when the build SUCCEEDED, 1 when it did not, 2 on usage or configuration
//! errors. The log goes to stdout and to `DATA_DIR/builds/<project>/<n>/build.log`; on a
//! terminal a progress line (phase, elapsed time) follows it on stderr.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use kiln_agent::build::{Ports, run_build};
use kiln_agent::error_text::error_chain;
use kiln_agent::local::{LocalOptions, prepare};
use kiln_agent::output::LogSink;
use kiln_agent::shell::StopFlag;
use kiln_core::build::{Status, parse_duration};
use kiln_local::FileSecretStore;

mod progress;

/// Arguments of `kiln run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The build runs in a fresh copy of the source (git-tracked and untracked-not-ignored \
files of a git work tree, everything otherwise) under DATA_DIR/builds/<project>/<number>/src. \
Its log goes to stdout and to DATA_DIR/builds/<project>/<number>/build.log; artifacts, caches and \
reports land under DATA_DIR/s3/<bucket>/<key> with the keys S3 would get (without --config: \
bucket kiln-artifacts, <build-uuid>/<project>/...).\n\n\
Exit status: 0 when the build SUCCEEDED, 1 when it did not (FAILED, TIMED_OUT, STOPPED), 2 on a \
usage or configuration error (then no build starts) or when the --summary file cannot be \
written."
)]
pub struct Args {
    /// The source directory to build.
    #[arg(long, value_name = "DIR", default_value = ".")]
    source: PathBuf,
    /// The buildspec: a path relative to the source, or absolute (default: the project's
    /// source.buildspec, else buildspec.yml).
    #[arg(long, value_name = "PATH")]
    buildspec: Option<String>,
    /// The project: with --config, which of its projects to build (optional when it has one);
    /// without, the project's name (default: the source directory's name).
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// A project catalog in CodeBuild's project field names, JSON or YAML: one project, a list,
    /// or {"projects": [...]} (artifacts, secondaryArtifacts, cache, environment variables,
    /// timeoutInMinutes, source.buildspec).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// An environment variable for the build, overriding the project's and the buildspec's;
    /// repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Values for the buildspec's parameter-store and secrets-manager variables: NAME=VALUE
    /// lines keyed by parameter name or secret id (masked as *** in the log).
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
    /// A GitHub webhook delivery to build as (with --event-name).
    #[arg(long, value_name = "FILE", requires = "event_name")]
    event: Option<PathBuf>,
    /// The delivery's event name (X-GitHub-Event).
    #[arg(long, value_name = "NAME", requires = "event")]
    event_name: Option<String>,
    /// The build timeout: 90s, 5m, 1h (default: the project's timeoutInMinutes, else 60m).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    timeout: Option<std::time::Duration>,
    /// Where working copies, build numbers, logs and the local object store live.
    #[arg(long, value_name = "DIR", default_value = ".kiln")]
    data_dir: PathBuf,
    /// Write the finished build to this file as JSON in CodeBuild's BatchGetBuilds field
    /// names, with its test reports in BatchGetReports' shape.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Build in the source directory itself instead of a fresh copy (the build can change
    /// your files).
    #[arg(long)]
    in_place: bool,
}

/// Makes the build look like the one the delivery would start in the cloud: its source
/// version, the commit it names, its initiator and every `CODEBUILD_WEBHOOK_*` variable.
///
/// The working tree is built as it is: kiln does not check out the delivery's commit, so
/// `CODEBUILD_RESOLVED_SOURCE_VERSION` names the commit the cloud build would have fetched.
fn apply_event(
    request: &mut kiln_agent::build::BuildRequest,
    delivery: kiln_core::project::BuildRequest,
) {
    for var in delivery.environment_variables {
        match var.name.as_str() {
            "CODEBUILD_SOURCE_VERSION" => request.source_version = Some(var.value),
            "CODEBUILD_RESOLVED_SOURCE_VERSION" => {
                request.resolved_source_version = Some(var.value)
            }
            "CODEBUILD_INITIATOR" => request.initiator = var.value,
            _ => request.builtins.push((var.name, var.value)),
        }
    }
}

/// Reads a delivery file into the build request it would give. The project name only feeds
/// the request's idempotency key, which a local run does not use.
fn read_event(
    path: &std::path::Path,
    event_name: &str,
) -> Result<kiln_core::project::BuildRequest, String> {
    let body =
        std::fs::read(path).map_err(|e| format!("read the delivery {}: {e}", path.display()))?;
    kiln_core::project::request_for_local_event("", event_name, &body)
        .map_err(|e| format!("{}: {}", path.display(), error_chain(&e)))
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

/// Runs `kiln run`.
pub fn run(args: Args) -> ExitCode {
    match run_inner(args) {
        Ok(Status::Succeeded) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(message) => {
            eprintln!("kiln run: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: Args) -> Result<Status, String> {
    let secrets = match &args.secrets {
        Some(path) => FileSecretStore::open(path).map_err(|e| error_chain(&e))?,
        None => FileSecretStore::empty(),
    };
    let options = LocalOptions {
        source: args.source.clone(),
        buildspec: args.buildspec.clone(),
        project: args.project.clone(),
        config: args.config.clone(),
        env: args.env.clone(),
        timeout: args.timeout,
        data_dir: args.data_dir.clone(),
        in_place: args.in_place,
    };
    // The delivery is read before a build number is taken, so one that builds nothing
    // (a ping, a deleted branch) costs nothing.
    let delivery = match (&args.event, &args.event_name) {
        (Some(path), Some(name)) => Some(read_event(path, name)?),
        _ => None,
    };
    let mut prepared = prepare(&options).map_err(|e| error_chain(&e))?;
    for warning in &prepared.warnings {
        eprintln!("{warning}");
    }
    if let Some(delivery) = delivery {
        apply_event(&mut prepared.request, delivery);
    }
    let log = std::fs::File::create(&prepared.log_path)
        .map_err(|e| format!("create log file {}: {e}", prepared.log_path.display()))?;
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal() && std::io::stderr().is_terminal();
    let stdout_file: Box<dyn Write + Send> = match stdout.as_fd_file() {
        Some(file) => Box::new(file),
        None => Box::new(std::io::stdout()),
    };
    let progress = terminal.then(progress::Progress::start);
    let stdout_out: Box<dyn Write + Send> = match &progress {
        Some(p) => Box::new(p.wrap(stdout_file)),
        None => stdout_file,
    };
    let sink = LogSink::new(
        &[],
        vec![stdout_out, Box::new(kiln_agent::output::BackgroundWriter::new(log))],
    );
    if let Some(p) = &progress {
        sink.set_observer(p.observer());
    }
    let store = kiln_local::FsObjectStore::new(&prepared.data_dir);
    let ports = Ports { store: &store, secrets: &secrets };
    let stop = StopFlag::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("start the runtime: {e}"))?;
    let summary = runtime.block_on(async {
        let watcher = stop.clone();
        tokio::spawn(async move {
            if let Err(e) = kiln_agent::signals::watch(watcher).await {
                eprintln!("kiln run: {}", error_chain(&e));
            }
        });
        if let Err(e) = kiln_agent::process::become_subreaper() {
            eprintln!("kiln run: warning: {}", error_chain(&e));
        }
        run_build(&prepared.request, ports, &sink, &stop).await
    });
    if let Some(p) = progress {
        p.finish();
    }
    let line = format!(
        "Build {} {} (log: {})",
        summary.identity.id(),
        summary.status,
        prepared.log_path.display()
    );
    sink.line(&kiln_core::logs::LogMessage::Text(&line));
    sink.flush();
    if let Some(path) = &args.summary {
        let json = serde_json::to_string_pretty(&summary.to_json()).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n")
            .map_err(|e| format!("write summary {}: {e}", path.display()))?;
    }
    Ok(summary.status)
}

/// Standard output as a plain file (no line buffering), for throughput.
trait AsFdFile {
    fn as_fd_file(&self) -> Option<std::fs::File>;
}

impl AsFdFile for std::io::Stdout {
    fn as_fd_file(&self) -> Option<std::fs::File> {
        use std::os::fd::AsFd;
        self.as_fd().try_clone_to_owned().ok().map(std::fs::File::from)
    }
}
