//! The phase loop of one build: asks the phase machine what runs next, runs it, logs it.
//!
//! [INF] choices: SUBMITTED, QUEUED and PROVISIONING are recorded as SUCCEEDED at once with no
//! log line (a local run has nothing to wait for); a phase the buildspec does not declare is
//! entered and succeeds with no command; a command that times out ends its phase TIMED_OUT
//! with context `BUILD_TIMED_OUT` (`Build has timed out. `), a stop ends it STOPPED with
//! `BUILD_STOPPED`; FINALIZING kills whatever background processes the build left behind.

use std::time::Instant;

use kiln_core::build::{
    BuildMachine, EnvInputs, PhaseContext, PhaseEnd, PhaseRecord, PhaseRun, PhaseType, Status,
    Step, assemble_env,
};
use kiln_core::buildspec::{Buildspec, Command, OnFailure, PhaseName, Shell};
use kiln_core::logs::LogMessage;

use super::download::{DownloadError, load_buildspec, resolve_env};
use super::request::{BuildRequest, Ports};
use super::summary::BuildSummary;
use crate::error_text::error_chain;
use crate::output::LogSink;
use crate::shell::{Exit, RunAs, ShellConfig, ShellSession, StopFlag, retain_valid_env};
use crate::upload::{UploadInput, UploadOutcome, UploadStatus, restore_cache, upload};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// A build past DOWNLOAD_SOURCE.
struct Ready {
    buildspec: Buildspec,
    shell: ShellSession,
    run_as: Vec<(PhaseName, RunAs)>,
    secret_names: Vec<String>,
}

/// Runs the build described by `request` to its end, writing its log to `sink`.
pub async fn run_build(
    request: &BuildRequest,
    ports: Ports<'_>,
    sink: &LogSink,
    stop: &StopFlag,
) -> BuildSummary {
    let deadline = Instant::now() + request.timeout;
    let mut machine = BuildMachine::new();
    let mut records = Vec::new();
    let mut ready: Option<Ready> = None;
    let mut exported = Vec::new();
    let mut outcome = UploadOutcome::default();
    while let Some(phase) = machine.next_phase() {
        let start_ms = now_ms();
        if phase == PhaseType::Completed {
            records.push(PhaseRecord {
                phase_type: phase,
                status: None,
                start_ms,
                end_ms: None,
                contexts: vec![],
            });
            break;
        }
        let logged = phase >= PhaseType::DownloadSource;
        if logged {
            sink.line(&LogMessage::EnteringPhase(phase));
        }
        let end = match phase {
            PhaseType::DownloadSource => match download(request, ports, sink, stop).await {
                Ok(r) => {
                    machine.configure(&r.buildspec.phases);
                    let ready = ready.insert(r);
                    let env = ready.shell.env_snapshot();
                    let input = upload_input(request, ready, &env, ports, (deadline, stop));
                    restore_cache(&input, &mut |m: String| sink.line(&LogMessage::Text(&m))).await;
                    PhaseEnd::succeeded()
                }
                Err(e) => PhaseEnd::failed(e.context()),
            },
            PhaseType::Install | PhaseType::PreBuild | PhaseType::Build | PhaseType::PostBuild => {
                match (ready.as_mut(), phase.buildspec_phase()) {
                    (Some(r), Some(name)) => run_phase(r, name, &machine, deadline, sink),
                    _ => PhaseEnd::succeeded(),
                }
            }
            PhaseType::UploadArtifacts => match ready.as_mut() {
                Some(r) => {
                    let env = r.shell.env_snapshot();
                    let input = upload_input(request, r, &env, ports, (deadline, stop));
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
                    // A plain variable holding a secret (`export PLAIN=$TOKEN`) is exported
                    // with the secret masked, as in the log.
                    exported = exported_variables(r)
                        .into_iter()
                        .map(|(name, value)| (name, sink.mask(&value)))
                        .collect();
                    if let Err(e) = r.shell.kill_all() {
                        sink.line(&LogMessage::Text(&format!("Warning: {}", error_chain(&e))));
                    }
                }
                PhaseEnd::succeeded()
            }
            _ => PhaseEnd::succeeded(),
        };
        if logged {
            sink.line(&LogMessage::PhaseComplete(phase, end.status));
            if let Some(context) = &end.context {
                sink.line(&LogMessage::PhaseContext(context));
            }
        }
        records.push(PhaseRecord {
            phase_type: phase,
            status: Some(end.status),
            start_ms,
            end_ms: Some(now_ms()),
            contexts: end.context.clone().into_iter().collect(),
        });
        machine.complete(phase, &end);
        if stop.is_set() {
            machine.interrupt(Status::Stopped);
        } else if Instant::now() >= deadline {
            machine.interrupt(Status::TimedOut);
        }
    }
    sink.flush();
    BuildSummary {
        identity: request.identity.clone(),
        status: machine.build_status(),
        start_ms: request.start_ms,
        end_ms: now_ms(),
        source_version: request.source_version.clone(),
        resolved_source_version: request.resolved_source_version.clone(),
        phases: records,
        exported,
        upload: outcome,
        timeout_minutes: request.timeout.as_secs().div_ceil(60),
        image: request.image(),
        initiator: request.initiator.clone(),
    }
}

fn upload_input<'a>(
    request: &'a BuildRequest,
    ready: &'a Ready,
    env: &'a [(String, String)],
    ports: Ports<'a>,
    (deadline, stop): (Instant, &'a StopFlag),
) -> UploadInput<'a> {
    UploadInput {
        buildspec: &ready.buildspec,
        project: &request.project,
        build: &request.identity,
        src_dir: &request.src_dir,
        env,
        shell: ready.shell.program(),
        store: ports.store,
        deadline: Some(deadline),
        stop,
    }
}

/// DOWNLOAD_SOURCE: the buildspec, the environment, the shell.
async fn download(
    request: &BuildRequest,
    ports: Ports<'_>,
    sink: &LogSink,
    stop: &StopFlag,
) -> Result<Ready, DownloadError> {
    sink.line(&LogMessage::Text(&format!("CODEBUILD_SRC_DIR={}", request.src_dir.display())));
    let loaded = load_buildspec(&request.src_dir, &request.buildspec).inspect_err(|e| {
        if let DownloadError::Invalid(lines) = e {
            for line in lines {
                sink.line(&LogMessage::Text(line));
            }
        }
    })?;
    for warning in &loaded.warnings {
        sink.line(&LogMessage::Text(warning));
    }
    let buildspec = loaded.buildspec;
    let program = match buildspec.env.shell {
        None | Some(Shell::Sh) => "sh",
        Some(Shell::Bash) => "bash",
        Some(Shell::PowerShell | Shell::Cmd) => {
            return Err(DownloadError::Invalid(vec![
                "env.shell: Windows shells are not supported on Linux".into(),
            ]));
        }
    };
    let mut run_as = Vec::new();
    for name in PhaseName::ALL {
        let user = buildspec
            .phases
            .get(name)
            .and_then(|p| p.run_as.clone())
            .or_else(|| buildspec.run_as.clone());
        if let Some(user) = user {
            let resolved = RunAs::lookup(&user).map_err(|e| DownloadError::RunAs(e.to_string()))?;
            run_as.push((name, resolved));
        }
    }
    sink.line(&LogMessage::Text("Processing environment variables"));
    let resolved = resolve_env(&buildspec, &request.project, ports.secrets).await?;
    sink.add_secrets(&resolved.secrets);
    let mut base = request.base_env.clone();
    let mut overrides = request.overrides.clone();
    for e in retain_valid_env(&mut base).into_iter().chain(retain_valid_env(&mut overrides)) {
        sink.line(&LogMessage::Text(&format!("Warning: skipping {e}")));
    }
    let path = base.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone());
    if let Some(path) =
        crate::tools::install_on_path(&request.state_dir.join("bin"), path.as_deref())
    {
        base.retain(|(k, _)| k != "PATH");
        base.push(("PATH".into(), path));
    }
    let (env, warnings) = assemble_env(&EnvInputs {
        base,
        identity: &request.identity,
        start_ms: request.start_ms,
        src_dir: request.src_dir.to_string_lossy().into_owned(),
        source_version: request.source_version.clone(),
        resolved_source_version: request.resolved_source_version.clone(),
        initiator: request.initiator.clone(),
        image: request.image(),
        home: request.home,
        buildspec: resolved.buildspec,
        project: resolved.project,
        overrides,
        builtins: request.builtins.clone(),
    });
    for warning in warnings {
        sink.line(&LogMessage::Text(&warning.message));
    }
    let config = ShellConfig {
        program: program.to_owned(),
        version: buildspec.version,
        src_dir: request.src_dir.clone(),
        env,
    };
    let shell = ShellSession::new(config, stop.clone())?;
    Ok(Ready { buildspec, shell, run_as, secret_names: resolved.secret_names })
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
    loop {
        let command = match run.next() {
            Step::Done(end) => return end,
            Step::Command { index, attempt } => {
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
            Step::Finally(index) => command_at(&phase.finally, index),
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
