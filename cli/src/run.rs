//! `kiln run`: one build of a working tree on this machine, as the cloud would run it: the
//! build is recorded, launched with the in-process runner and finalized through the same
//! services a Fargate task's build goes through.
//!
//! Exit codes: 0 when the build SUCCEEDED, 1 when it did not, 2 on usage or configuration
//! errors. The log goes to stdout and to `DATA_DIR/builds/<project>/<n>/build.log`; on a
//! terminal a progress line (phase, elapsed time) follows it on stderr.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use kiln_agent::Agent;
use kiln_agent::output::{BackgroundWriter, LogSink};
use kiln_core::build::{Build, NameValue, SourceSpec, Status, layout, parse_duration};
use kiln_core::error_chain;
use kiln_core::ports::BuildAgent;
use kiln_core::project::{LocalEventError, Project};
use kiln_core::service::{BuildPlan, plan_for_delivery};
use kiln_local::{FileSecretStore, FsObjectStore, LocalBuildError, run_local_build};

mod checks;
mod progress;
mod project;
mod report;
mod style;

pub use style::ColorChoice;

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
    /// The build timeout: 90s, 5m, 1h, with a unit, at most 36h (default: the project's
    /// timeoutInMinutes, else 60m).
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
    /// Print only the summary at the end, and the build's output when it fails.
    #[arg(long, short)]
    quiet: bool,
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// Why `kiln run` could not run a build (exit 2).
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("source directory {0} does not exist")]
    NoSource(PathBuf),
    #[error(transparent)]
    Secrets(#[from] kiln_local::secrets::SecretsFileError),
    #[error(transparent)]
    Project(#[from] project::ProjectError),
    #[error(transparent)]
    Check(#[from] checks::CheckError),
    #[error("read the delivery {0}")]
    ReadEvent(PathBuf, #[source] crate::input::InputError),
    #[error("--event-name")]
    EventName(#[source] kiln_core::webhook::UnknownEventName),
    #[error("{0}")]
    EventShape(PathBuf, #[source] kiln_core::webhook::ShapeMismatch),
    #[error("{0}")]
    Event(PathBuf, #[source] LocalEventError),
    #[error("prepare data directory {0}")]
    DataDir(PathBuf, #[source] std::io::Error),
    #[error("start the runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Build(#[from] LocalBuildError),
    #[error("the build ended without a summary")]
    NoSummary,
    #[error("write summary {0}")]
    Summary(PathBuf, #[source] std::io::Error),
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
        Err(e) => {
            eprintln!("kiln run: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// Reads a delivery file into what the cloud would build of it. Read before a build number is
/// taken, so one that builds nothing (a ping, a deleted branch) costs nothing.
fn read_event(path: &Path, event_name: &str, project: &Project) -> Result<BuildPlan, RunError> {
    kiln_core::webhook::check_event_name(event_name).map_err(RunError::EventName)?;
    let body = crate::input::read_file(path, kiln_core::limits::DELIVERY_BODY)
        .map_err(|e| RunError::ReadEvent(path.to_path_buf(), e))?;
    kiln_core::webhook::check_shape(event_name, &body)
        .map_err(|e| RunError::EventShape(path.to_path_buf(), e))?;
    let (request, trigger) =
        kiln_core::project::request_for_local_event(&project.name, event_name, &body)
            .map_err(|e| RunError::Event(path.to_path_buf(), e))?;
    Ok(plan_for_delivery(&request, project, &trigger, None))
}

fn run_inner(args: Args) -> Result<Status, RunError> {
    let secrets = match &args.secrets {
        Some(path) => FileSecretStore::open(path)?,
        None => FileSecretStore::empty(),
    };
    let source = args
        .source
        .canonicalize()
        .ok()
        .filter(|s| s.is_dir())
        .ok_or_else(|| RunError::NoSource(args.source.clone()))?;
    let (project, warnings) =
        project::select(args.config.as_deref(), args.project.as_deref(), &source)?;
    for warning in &warnings {
        eprintln!("{warning}");
    }
    let delivery = match (&args.event, &args.event_name) {
        (Some(path), Some(name)) => Some(read_event(path, name, &project)?),
        _ => None,
    };
    let notes = checks::before_build(&checks::Before {
        project: &project,
        source: &source,
        buildspec: args.buildspec.as_deref(),
        secrets: &secrets,
        secrets_path: args.secrets.as_deref(),
        summary: args.summary.as_deref(),
    })?;
    for note in &notes {
        eprintln!("{note}");
    }
    create_data_dir(&args.data_dir).map_err(|e| RunError::DataDir(args.data_dir.clone(), e))?;
    let data_dir =
        args.data_dir.canonicalize().map_err(|e| RunError::DataDir(args.data_dir.clone(), e))?;
    let head = kiln_agent::source::head_sha(&source);
    let mut plan = delivery.unwrap_or_else(|| BuildPlan {
        key: String::new(),
        source: SourceSpec::NoSource,
        source_version: head.clone(),
        resolved_source_version: head,
        initiator: crate::settings::initiator(),
        timeout_seconds: None,
        with_secrets: true,
        buildspec_override: None,
        builtin_variables: Vec::new(),
        environment_variables_override: Vec::new(),
        webhook: None,
        report_on: None,
    });
    // A local build is the user's own: a fresh key, the working tree as its source, no
    // statuses posted anywhere, the project's secrets available.
    plan.key = uuid::Uuid::new_v4().to_string();
    plan.source = SourceSpec::Directory {
        path: source,
        in_place: args.in_place,
        exclude: vec![data_dir.clone()],
    };
    plan.report_on = None;
    plan.with_secrets = true;
    plan.timeout_seconds = args.timeout.map(|t| t.as_secs());
    plan.buildspec_override.clone_from(&args.buildspec);
    plan.environment_variables_override =
        args.env.iter().map(|(n, v)| NameValue::new(n.clone(), v.clone())).collect();

    let terminal = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let style = style::Style::new(args.color.enabled(std::io::stdout().is_terminal()));
    let progress = (terminal && !args.quiet).then(progress::Progress::start);
    let sink_slot: Arc<Mutex<Option<(LogSink, PathBuf)>>> = Arc::default();
    let store = Arc::new(FsObjectStore::new(&data_dir));
    let secrets = Arc::new(secrets);
    let make_agent = |build: &Build| -> std::io::Result<Arc<dyn BuildAgent>> {
        let log_path = data_dir.join(layout::log_key(&build.build_ref()));
        if let Some(parent) = log_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let log = std::fs::File::create(&log_path)?;
        let mut outputs: Vec<Box<dyn Write + Send>> = vec![Box::new(BackgroundWriter::new(log))];
        if !args.quiet {
            let stdout: Box<dyn Write + Send> =
                Box::new(style::Colorize::new(stdout_file(), style));
            outputs.push(match &progress {
                Some(p) => Box::new(p.wrap(stdout)),
                None => stdout,
            });
        }
        let sink = LogSink::new(&[], outputs);
        if let Some(p) = &progress {
            sink.set_observer(p.observer());
        }
        if let Ok(mut slot) = sink_slot.lock() {
            *slot = Some((sink.clone(), log_path));
        }
        Ok(Arc::new(Agent::new(store.clone(), secrets.clone(), sink)))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    if let Err(e) = kiln_agent::process::become_subreaper() {
        eprintln!("kiln run: warning: {}", error_chain(&e));
    }
    let settings = crate::settings::local();
    let result = runtime.block_on(run_local_build(
        &settings,
        &project,
        plan,
        &data_dir,
        make_agent,
        stop_signal(),
    ));
    if let Some(p) = progress {
        p.finish();
    }
    let done = result?;
    let mut summary = done.summary.ok_or(RunError::NoSummary)?;
    let slot = sink_slot.lock().ok().and_then(|mut s| s.take());
    let log_path = data_dir.join(layout::log_key(&done.build.build_ref()));
    if let Some((sink, _)) = &slot {
        let line = format!("Build {} {}", summary.id, summary.build_status);
        sink.line(&kiln_core::logs::LogMessage::Text(&line));
        sink.flush();
    }
    drop(slot);
    local_locations(&mut summary, &log_path, &data_dir);
    let store = kiln_local::FsBuildStore::new(&data_dir);
    if let Err(e) = runtime.block_on(crate::clean::prune_working_copies(&store, &project.name)) {
        eprintln!("kiln run: warning: old working copies were not removed: {e}");
    }
    let mut shown = String::new();
    if args.quiet && summary.build_status != Status::Succeeded {
        shown = std::fs::read_to_string(&log_path).unwrap_or_default();
    }
    let label = format!("{} #{}", summary.project_name, summary.build_number);
    shown.push_str(&report::block(&summary, &label, &log_path, &data_dir, style));
    if let Err(e) = crate::print::stdout(|w| w.write_all(shown.as_bytes()))
        && !matches!(e, crate::print::PrintError::Closed)
    {
        eprintln!("kiln run: {}", error_chain(&e));
    }
    if let Some(path) = &args.summary {
        let json = summary.to_json().map_err(|e| RunError::Summary(path.clone(), e.into()))?;
        std::fs::write(path, json).map_err(|e| RunError::Summary(path.clone(), e))?;
    }
    Ok(summary.build_status)
}

/// Creates the data directory; a new one gets a `.gitignore` of `*`, so a data directory
/// inside a git work tree never shows in `git status` or a later build's working copy.
fn create_data_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(".gitignore"),
        "# kiln's data directory: build state, logs, working copies\n*\n",
    )
}

/// Where a local build's log and artifacts are on disk, in the summary: the log as a `file://`
/// link, each artifact's local path.
fn local_locations(summary: &mut kiln_core::build::BuildSummary, log: &Path, data_dir: &Path) {
    summary.logs.deep_link = Some(format!("file://{}", log.display()));
    for a in summary.artifacts.iter_mut().chain(summary.secondary_artifacts.iter_mut()) {
        a.local_path = report::local_object(data_dir, &a.location).map(|p| p.display().to_string());
    }
}

/// Resolves when the user asks the build to stop: SIGINT (Ctrl-C), SIGTERM or SIGHUP.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

/// Standard output as a plain file (no line buffering), for throughput.
fn stdout_file() -> Box<dyn Write + Send> {
    use std::os::fd::AsFd;
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stdout()),
    }
}
