//! One build, start to end: the phase loop asks the phase machine what runs next, runs it,
//! logs it, and the summary is assembled at the end.
//!
//! [INF] choices: SUBMITTED, QUEUED and PROVISIONING are recorded as SUCCEEDED at once with no
//! log line (the runner has done them); a phase the buildspec does not declare is entered and
//! succeeds with no command; a command that times out ends its phase TIMED_OUT with context
//! `BUILD_TIMED_OUT` (`Build has timed out. `), a stop ends it STOPPED with `BUILD_STOPPED`;
//! FINALIZING kills whatever background processes the build left behind. The deadline is the
//! description's start time plus its timeout, so time spent waiting for a place counts, as in
//! CodeBuild.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_core::build::{
    BuildArtifacts, BuildDescription, BuildLogs, BuildMachine, BuildSummary, EnvInputs, NameValue,
    PhaseContext, PhaseEnd, PhaseRecord, PhaseRun, PhaseType, Status, Step, SummaryEnvironment,
    assemble_env,
};
use kiln_core::buildspec::{Buildspec, Command, OnFailure, PhaseName, Shell, SkippedCommand};
use kiln_core::logs::LogMessage;
use kiln_core::ports::{BuildAgent, ObjectStore, SecretStore, StopFlag};

use super::download::{DownloadError, fetch_source, load_buildspec, resolve_env};
use super::workspace::Workspace;
use crate::output::LogSink;
use crate::shell::{Exit, RunAs, ShellConfig, ShellSession, retain_valid_env};
use crate::source::FetchCredential;
use crate::upload::{
    ArtifactSummary, UploadInput, UploadOutcome, UploadStatus, restore_cache, upload,
};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// What the agent talks to while a build runs.
#[derive(Clone, Copy)]
pub struct AgentPorts<'a> {
    /// Where artifacts, reports and caches go.
    pub store: &'a dyn ObjectStore,
    /// Where parameter-store and secrets-manager values come from.
    pub secrets: &'a dyn SecretStore,
    /// The credential that fetches a git source: taken for the fetch and dropped once the
    /// source is in place, before the first command.
    pub git_credential: Option<&'a FetchCredential>,
}

impl std::fmt::Debug for AgentPorts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentPorts")
            .field("git_credential", &self.git_credential)
            .finish_non_exhaustive()
    }
}

/// A build past DOWNLOAD_SOURCE.
struct Ready {
    buildspec: Buildspec,
    shell: ShellSession,
    run_as: Vec<(PhaseName, RunAs)>,
    secret_names: Vec<String>,
}

/// Runs `description` to its end, writing its log to `sink`; `stop` ends it early (STOPPED).
pub async fn run(
    description: &BuildDescription,
    ports: AgentPorts<'_>,
    sink: &LogSink,
    stop: &StopFlag,
) -> BuildSummary {
    let workspace = Workspace::of(description);
    let elapsed_ms = u64::try_from((now_ms() - description.start_time_ms).max(0)).unwrap_or(0);
    let remaining = Duration::from_secs(description.timeout_seconds)
        .saturating_sub(Duration::from_millis(elapsed_ms));
    let now = Instant::now();
    let deadline = now.checked_add(remaining).unwrap_or(now + Duration::from_secs(2160 * 60));
    let mut machine = BuildMachine::new();
    let mut records = Vec::new();
    let mut ready: Option<Ready> = None;
    let mut exported = Vec::new();
    let mut resolved_version = description.resolved_source_version.clone();
    let mut outcome = UploadOutcome::default();
    while let Some(phase) = machine.next_phase() {
        let start_ms = now_ms();
        if phase == PhaseType::Completed {
            records.push(PhaseRecord::completed(start_ms));
            break;
        }
        let logged = phase >= PhaseType::DownloadSource;
        if logged {
            sink.line(&LogMessage::EnteringPhase(phase));
        }
        let end = match phase {
            PhaseType::DownloadSource => {
                match download(description, &workspace, ports, sink, stop).await {
                    Ok((r, commit)) => {
                        if commit.is_some() {
                            resolved_version = commit;
                        }
                        machine.configure(&r.buildspec.phases);
                        let ready = ready.insert(r);
                        let env = ready.shell.env_snapshot();
                        let input = upload_input(
                            description,
                            &workspace,
                            ready,
                            &env,
                            ports,
                            (deadline, stop),
                        );
                        restore_cache(&input, &mut |m: String| sink.line(&LogMessage::Text(&m)))
                            .await;
                        PhaseEnd::succeeded()
                    }
                    Err(e) => {
                        if let DownloadError::Invalid(lines) = &e {
                            for line in lines {
                                sink.line(&LogMessage::Text(line));
                            }
                        }
                        PhaseEnd::failed(e.context())
                    }
                }
            }
            PhaseType::Install | PhaseType::PreBuild | PhaseType::Build | PhaseType::PostBuild => {
                match (ready.as_mut(), phase.buildspec_phase()) {
                    (Some(r), Some(name)) => run_phase(r, name, &machine, deadline, sink),
                    _ => PhaseEnd::succeeded(),
                }
            }
            PhaseType::UploadArtifacts => match ready.as_mut() {
                Some(r) => {
                    let env = r.shell.env_snapshot();
                    let input =
                        upload_input(description, &workspace, r, &env, ports, (deadline, stop));
                    outcome =
                        upload(&input, &mut |m: String| sink.line(&LogMessage::Text(&m))).await;
                    match &outcome.status {
                        UploadStatus::Succeeded => PhaseEnd::succeeded(),
                        UploadStatus::Failed { status_code, message } => PhaseEnd::failed(
                            PhaseContext::new(status_code.clone(), message.clone()),
                        ),
                    }
                }
                None => PhaseEnd::succeeded(),
            },
            PhaseType::Finalizing => {
                if let Some(r) = ready.as_mut() {
                    exported = exported_variables(r)
                        .into_iter()
                        .map(|(name, value)| NameValue::new(name, sink.mask(&value)))
                        .collect();
                    if let Err(e) = r.shell.kill_all() {
                        let text = format!("Warning: {}", kiln_core::error_chain(&e));
                        sink.line(&LogMessage::Text(&text));
                    }
                }
                PhaseEnd::succeeded()
            }
            _ => PhaseEnd::succeeded(),
        };
        let end = PhaseEnd {
            status: end.status,
            context: end.context.map(|c| PhaseContext::new(c.status_code, sink.mask(&c.message))),
        };
        if logged {
            sink.line(&LogMessage::PhaseComplete(phase, end.status));
            if let Some(context) = &end.context {
                sink.line(&LogMessage::PhaseContext(context));
            }
        }
        records.push(PhaseRecord::ended(phase, start_ms, now_ms(), &end));
        machine.complete(phase, &end);
        if stop.is_set() {
            machine.interrupt(Status::Stopped);
        } else if Instant::now() >= deadline {
            machine.interrupt(Status::TimedOut);
        }
    }
    sink.flush();
    let mask_artifact = |a: ArtifactSummary| BuildArtifacts {
        location: sink.mask(&a.location),
        sha256sum: a.sha256sum,
        md5sum: a.md5sum,
        artifact_identifier: a.artifact_identifier,
        local_path: None,
    };
    let mut summary = BuildSummary::new(
        &description.build,
        machine.build_status(),
        description.start_time_ms,
        now_ms(),
    );
    summary.source_version.clone_from(&description.source_version);
    summary.resolved_source_version = resolved_version;
    summary.initiator.clone_from(&description.initiator);
    summary.timeout_in_minutes = description.timeout_seconds.div_ceil(60);
    summary.environment = SummaryEnvironment {
        image: description.image.clone(),
        compute_type: Some(description.project.compute_type().to_owned()),
        environment_type: Some(description.project.environment_type().to_owned()),
    };
    summary.phases = records;
    summary.artifacts = outcome.artifacts.map(mask_artifact);
    summary.secondary_artifacts =
        outcome.secondary_artifacts.into_iter().map(mask_artifact).collect();
    summary.exported_environment_variables = exported;
    summary.logs = BuildLogs::default();
    summary.reports = outcome.reports;
    summary
}

fn upload_input<'a>(
    description: &'a BuildDescription,
    workspace: &'a Workspace,
    ready: &'a Ready,
    env: &'a [(String, String)],
    ports: AgentPorts<'a>,
    (deadline, stop): (Instant, &'a StopFlag),
) -> UploadInput<'a> {
    UploadInput {
        buildspec: &ready.buildspec,
        project: &description.project,
        build: &description.build,
        src_dir: &workspace.src_dir,
        env,
        shell: ready.shell.program(),
        store: ports.store,
        deadline: Some(deadline),
        stop,
    }
}

/// The image's environment: the agent's own, without kiln's configuration variables.
fn base_environment() -> Vec<(String, String)> {
    std::env::vars().filter(|(k, _)| !k.starts_with("KILN_")).collect()
}

/// DOWNLOAD_SOURCE: the source, the buildspec, the environment, the shell. Returns the build
/// ready to run and the commit checked out, when the source is a git repository.
async fn download(
    description: &BuildDescription,
    workspace: &Workspace,
    ports: AgentPorts<'_>,
    sink: &LogSink,
    stop: &StopFlag,
) -> Result<(Ready, Option<String>), DownloadError> {
    sink.line(&LogMessage::Text(&format!("CODEBUILD_SRC_DIR={}", workspace.src_dir.display())));
    let credential = ports.git_credential.and_then(FetchCredential::take);
    let commit = fetch_source(&description.source, &workspace.src_dir, credential.as_ref());
    drop(credential);
    let commit = commit?;
    let location = description.project.buildspec_source(description.buildspec_override.as_deref());
    let loaded = load_buildspec(&workspace.src_dir, &location)?;
    for warning in &loaded.warnings {
        sink.line(&LogMessage::Text(warning));
    }
    let buildspec = loaded.buildspec;
    let program = match buildspec.env.shell {
        None | Some(Shell::Sh) => "sh",
        Some(Shell::Bash) => "bash",
        Some(Shell::PowerShell | Shell::Cmd) => return Err(DownloadError::WindowsShell),
    };
    let mut run_as = Vec::new();
    for name in PhaseName::ALL {
        let user = buildspec
            .phases
            .get(name)
            .and_then(|p| p.run_as.clone())
            .or_else(|| buildspec.run_as.clone());
        if let Some(user) = user {
            run_as.push((name, RunAs::lookup(&user)?));
        }
    }
    sink.line(&LogMessage::Text("Processing environment variables"));
    let resolved =
        resolve_env(&buildspec, &description.project, ports.secrets, description.with_secrets)
            .await?;
    if !resolved.withheld.is_empty() {
        sink.line(&LogMessage::Text(&format!(
            "Secrets are withheld from this build (a pull request from a fork): {} not set",
            resolved.withheld.join(", ")
        )));
    }
    sink.add_secrets(&resolved.secrets);
    let mut base = base_environment();
    let pairs = |v: &[NameValue]| v.iter().map(|nv| (nv.name.clone(), nv.value.clone())).collect();
    let mut overrides: Vec<(String, String)> = pairs(&description.environment_variables_override);
    for e in retain_valid_env(&mut base).into_iter().chain(retain_valid_env(&mut overrides)) {
        sink.line(&LogMessage::Text(&format!("Warning: skipping {e}")));
    }
    let path = base.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone());
    if let Some(path) =
        crate::tools::install_on_path(&workspace.state_dir.join("bin"), path.as_deref())
    {
        base.retain(|(k, _)| k != "PATH");
        base.push(("PATH".into(), path));
    }
    let (env, warnings) = assemble_env(&EnvInputs {
        base,
        identity: &description.build,
        start_ms: description.start_time_ms,
        src_dir: workspace.src_dir.to_string_lossy().into_owned(),
        source_version: description.source_version.clone(),
        resolved_source_version: commit
            .clone()
            .or_else(|| description.resolved_source_version.clone()),
        initiator: description.initiator.clone(),
        image: description.image.clone(),
        home: description.home,
        buildspec: resolved.buildspec,
        project: resolved.project,
        overrides,
        builtins: pairs(&description.builtin_variables),
    });
    for warning in warnings {
        sink.line(&LogMessage::Text(&warning.message));
    }
    let config = ShellConfig {
        program: program.to_owned(),
        version: buildspec.version,
        src_dir: workspace.src_dir.clone(),
        env,
    };
    let shell = ShellSession::new(config, stop.clone())?;
    Ok((Ready { buildspec, shell, run_as, secret_names: resolved.secret_names }, commit))
}

/// Runs one buildspec phase's commands and `finally`.
fn run_phase(
    ready: &mut Ready,
    name: PhaseName,
    machine: &BuildMachine,
    deadline: Instant,
    sink: &LogSink,
) -> PhaseEnd {
    let Some(phase) = ready.buildspec.phases.get(name).cloned() else {
        return PhaseEnd::succeeded();
    };
    let run_as = ready.run_as.iter().find(|(n, _)| *n == name).map(|(_, u)| u.clone());
    let mut run = PhaseRun::new(&phase);
    sink.stop_capture();
    let mut ran_all = false;
    loop {
        let step = run.next();
        if !ran_all && matches!(step, Step::Finally(_) | Step::Done(_)) {
            ran_all = true;
            if !run.has_failed() {
                log_skipped(sink, "Commands", &phase.skipped_commands, phase.commands.len());
            }
        }
        let command = match step {
            Step::Done(end) => {
                if !phase.finally.is_empty() {
                    log_skipped(sink, "Finally", &phase.skipped_finally, phase.finally.len());
                }
                return end;
            }
            Step::Command { index, attempt } => {
                log_skipped(sink, "Commands", &phase.skipped_commands, index);
                if index == 0 {
                    if matches!(&phase.on_failure, Some(OnFailure::Retry { pattern: Some(_), .. }))
                    {
                        sink.start_capture();
                    }
                    if attempt > 1 {
                        let text =
                            format!("Retrying phase {} (attempt {attempt})", name.phase_type());
                        sink.line(&LogMessage::Text(&text));
                    }
                }
                command_at(&phase.commands, index)
            }
            Step::Finally(index) => {
                log_skipped(sink, "Finally", &phase.skipped_finally, index);
                command_at(&phase.finally, index)
            }
        };
        let Some(command) = command else { return PhaseEnd::succeeded() };
        sink.line(&LogMessage::RunningCommand(&command.text));
        let succeeding = machine.succeeding() && !run.has_failed();
        let overrides = [(
            "CODEBUILD_BUILD_SUCCEEDING".to_owned(),
            if succeeding { "1" } else { "0" }.to_owned(),
        )];
        match ready.shell.run(&command.text, &overrides, run_as.as_ref(), Some(deadline), sink) {
            Ok(Exit::Code(0)) => run.succeeded(),
            Ok(Exit::Code(code)) => {
                sink.line(&LogMessage::CommandFailed(&command.text, code));
                run.failed(PhaseContext::command_failed(&command.text, code), &sink.captured());
            }
            Ok(Exit::TimedOut) => {
                return PhaseEnd::with(
                    Status::TimedOut,
                    PhaseContext::new("BUILD_TIMED_OUT", "Build has timed out. "),
                );
            }
            Ok(Exit::Stopped) => {
                return PhaseEnd::with(
                    Status::Stopped,
                    PhaseContext::new("BUILD_STOPPED", "Build was stopped. "),
                );
            }
            Err(e) => {
                sink.line(&LogMessage::Text(&format!("Command could not be started: {e}")));
                sink.line(&LogMessage::CommandFailed(&command.text, 127));
                run.failed(PhaseContext::command_failed(&command.text, 127), "");
            }
        }
    }
}

/// Logs the empty items (a bare `-`, `- # comment`) of `list` reached before its command
/// `next`: CodeBuild skips them, and so does kiln, saying so.
fn log_skipped(sink: &LogSink, list: &str, skipped: &[SkippedCommand], next: usize) {
    for item in skipped.iter().filter(|s| s.after == next) {
        let text =
            format!("Skipping empty command {list}[{}] at line {}", item.index, item.position.line);
        sink.line(&LogMessage::Text(&text));
    }
}

fn command_at(commands: &[Command], index: usize) -> Option<&Command> {
    commands.get(index)
}

/// `env.exported-variables` with their values now. Names starting with `AWS_` and variables
/// taken from parameter-store or secrets-manager cannot be exported (spec §1.3); unset names
/// are left out.
fn exported_variables(ready: &mut Ready) -> Vec<(String, String)> {
    let names: Vec<String> = ready
        .buildspec
        .env
        .exported_variables
        .iter()
        .filter(|n| !n.starts_with("AWS_") && !ready.secret_names.contains(n))
        .cloned()
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let values = ready.shell.query(&names);
    names.into_iter().zip(values).filter_map(|(n, v)| v.map(|v| (n, v))).collect()
}

/// The agent as an in-process runner runs it: stores, secrets and the log sink of the build.
pub struct Agent {
    store: Arc<dyn ObjectStore>,
    secrets: Arc<dyn SecretStore>,
    sink: LogSink,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").finish_non_exhaustive()
    }
}

impl Agent {
    /// An agent writing objects to `store`, reading secrets from `secrets`, logging to `sink`.
    pub fn new(store: Arc<dyn ObjectStore>, secrets: Arc<dyn SecretStore>, sink: LogSink) -> Self {
        Self { store, secrets, sink }
    }
}

impl BuildAgent for Agent {
    fn run<'a>(
        &'a self,
        description: &'a BuildDescription,
        stop: StopFlag,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = BuildSummary> + Send + 'a>> {
        Box::pin(async move {
            let ports = AgentPorts {
                store: self.store.as_ref(),
                secrets: self.secrets.as_ref(),
                git_credential: None,
            };
            run(description, ports, &self.sink, &stop).await
        })
    }
}
