//! `kiln resolve`: which projects of a catalog a GitHub delivery (read from a file) would
//! build, with their source versions and `CODEBUILD_*` variables, and which do not, and why.
//!
//! The resolution is intake's own ([`kiln_core::service::resolve_delivery`], the code
//! `kiln serve` and the webhook function run after the signature check): a file on disk has
//! no signature to check, so the delivery is taken on trust, then parsed and resolved. A pull
//! request's changed files and head commit message are not in its payload: pass them with
//! `--changed-files FILE` (one path per line) and `--commit-message TEXT`, and they are
//! served by a local source host ([`kiln_local::LocalSourceHost`]) as GitHub would serve them.
//! Without either flag, a filter group that needs them does not build and the output says
//! why. [INF: with only `--commit-message`, the source host answers for the whole pull
//! request, so it changes no files; a note on stderr says so when a project filters on
//! `FILE_PATH`.]
//!
//! Before anything is resolved, `--event-name` must be an event GitHub sends (`pushh` is an
//! error with the closest name; `issue_comment` is answered as ignored), and the payload of
//! an event kiln reads must have that event's shape (a pull request's payload named `push`
//! says what it looks like, not `missing field ref`).
//!
//! Besides the builds, the output lists every project that does not build: the delivery's
//! repository's projects with the reason, then the projects that watch another repository
//! (`watches octo/other`).
//!
//! Exit codes: 0 when the delivery was resolved (even when nothing builds), 2 on usage,
//! configuration or I/O errors, 141 when stdout is closed early (`kiln resolve | head`, see
//! [`crate::print`]).
//!
//! Every input is read with its size limit before it is buffered: the catalog with
//! [`CATALOG`], the delivery with GitHub's 25 MB cap ([`DELIVERY_BODY`]), the changed files
//! with [`CHANGED_FILES`]. Projects build only when their `source.location` is on
//! `--github-host` (default `github.com`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiln_core::limits::{CATALOG, DELIVERY_BODY, Limit};
use kiln_core::ports::{PullRequestDetails, SourceHost};
use kiln_core::project::{
    CatalogError, DEFAULT_GITHUB_HOST, FilterType, Resolution, ResolverError, Skipped, load_catalog,
};
use kiln_core::service::{IntakeError, Projects, resolve_delivery};
use kiln_core::webhook::{
    Delivery, ShapeMismatch, UnknownEventName, VerifyError, check_event_name, check_shape,
};
use kiln_local::LocalSourceHost;
use serde_json::json;

use crate::input::{InputError, read_file, read_text};
use crate::print;

/// The list of a pull request's changed files (`--changed-files`): GitHub lists at most
/// 3,000 files of a pull request, far below this.
pub const CHANGED_FILES: Limit = Limit { what: "changed-files list", bytes: 16 << 20 };

/// Arguments of `kiln resolve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project catalog (YAML or JSON, CodeBuild's project field names).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The delivery body (JSON, or `payload=` form-encoded).
    #[arg(long, value_name = "FILE")]
    event: PathBuf,
    /// The `X-GitHub-Event` name: push, pull_request, release, ping, ... (an event GitHub
    /// sends; events kiln does not build from are answered as ignored).
    #[arg(long, value_name = "NAME")]
    event_name: String,
    /// Print JSON: {"event", "ignored", "builds": [...], "skipped": [{"project", "reason"}]}.
    #[arg(long)]
    json: bool,
    /// A pull request's changed files, one path per line (for FILE_PATH filters).
    #[arg(long, value_name = "FILE")]
    changed_files: Option<PathBuf>,
    /// A pull request's head commit message (for COMMIT_MESSAGE filters and skip markers).
    /// Without --changed-files, the pull request is then taken to change no files.
    #[arg(long, value_name = "TEXT")]
    commit_message: Option<String>,
    /// The delivery's User-Agent, which becomes CODEBUILD_INITIATOR.
    #[arg(long, value_name = "UA")]
    user_agent: Option<String>,
    /// The GitHub web host the delivery comes from (a GitHub Enterprise Server's host name):
    /// projects whose source.location is on another host do not build.
    #[arg(long, value_name = "HOST", default_value = DEFAULT_GITHUB_HOST)]
    github_host: String,
}

/// Why `kiln resolve` could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// `--event-name` is not an event GitHub sends.
    #[error("--event-name")]
    EventName(#[source] UnknownEventName),
    /// An input could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The catalog is invalid; its diagnostics are printed after this line.
    #[error("invalid catalog {file}")]
    Catalog {
        /// The catalog as named on the command line.
        file: String,
        /// Its text, for showing the offending lines.
        text: String,
        /// Every problem (boxed: a diagnostic is large beside the other variants).
        #[source]
        source: Box<CatalogError>,
    },
    /// A project's filter groups do not compile.
    #[error("{file}")]
    Filters {
        /// The catalog.
        file: String,
        /// The project and its first problem.
        #[source]
        source: ResolverError,
    },
    /// The delivery body is too large or a form without `payload`.
    #[error("{file}")]
    Delivery {
        /// The delivery file.
        file: String,
        /// What is wrong with it.
        #[source]
        source: VerifyError,
    },
    /// The payload has the shape of another event than `--event-name`.
    #[error("{file}: {source}; --event-name is {}", .source.event_name)]
    Shape {
        /// The delivery file.
        file: String,
        /// What the payload looks like.
        #[source]
        source: ShapeMismatch,
    },
    /// The payload cannot be read as its event, or the source host failed.
    #[error("{file}")]
    Resolve {
        /// The delivery file.
        file: String,
        /// Why.
        #[source]
        source: IntakeError,
    },
    /// The runtime that drives the source host could not start.
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
    /// The result could not be written as JSON.
    #[error("cannot write the result as JSON")]
    Json(#[source] serde_json::Error),
}

/// Runs `kiln resolve`.
pub fn run(args: &Args) -> ExitCode {
    match resolve(args) {
        Ok(text) => match print::stdout(|out| writeln!(out, "{text}")) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => error.exit_code("resolve", 2),
        },
        Err(ResolveError::Catalog { file, text, source }) => {
            print::note(&format!("kiln resolve: invalid catalog {file}"));
            for d in source.diagnostics() {
                print::note(&d.render_with_path(&file, &text));
            }
            ExitCode::from(2)
        }
        Err(error) => {
            print::note(&format!("kiln resolve: {}", print::chain(&error)));
            ExitCode::from(2)
        }
    }
}

/// Resolves the delivery of `args` and returns what to print.
fn resolve(args: &Args) -> Result<String, ResolveError> {
    check_event_name(&args.event_name).map_err(ResolveError::EventName)?;
    let file = args.config.display().to_string();
    let text = read_text(&args.config, CATALOG)?;
    let catalog = match load_catalog(&text) {
        Ok(catalog) => catalog,
        Err(e) => return Err(ResolveError::Catalog { file, text, source: Box::new(e) }),
    };
    for w in &catalog.warnings {
        print::note(&w.render_with_path(&file, &text));
    }
    let projects = Projects::with_host(catalog, &args.github_host)
        .map_err(|source| ResolveError::Filters { file: file.clone(), source })?;
    let event_file = args.event.display().to_string();
    let body = read_file(&args.event, DELIVERY_BODY)?;
    let mut delivery = Delivery::unsigned(&args.event_name, &body)
        .map_err(|source| ResolveError::Delivery { file: event_file.clone(), source })?;
    delivery.user_agent.clone_from(&args.user_agent);
    check_shape(&args.event_name, &delivery.payload)
        .map_err(|source| ResolveError::Shape { file: event_file.clone(), source })?;
    let host = source_host(args)?;
    if args.commit_message.is_some()
        && args.changed_files.is_none()
        && args.event_name == "pull_request"
        && projects.resolver().uses(FilterType::FilePath)
    {
        print::note(
            "kiln resolve: --commit-message without --changed-files: the pull request is taken to change no files",
        );
    }
    let runtime =
        tokio::runtime::Builder::new_current_thread().build().map_err(ResolveError::Runtime)?;
    let host = host.as_ref().map(|h| h as &dyn SourceHost);
    let (trigger, resolution) = runtime
        .block_on(resolve_delivery(projects.resolver(), &delivery, host))
        .map_err(|source| ResolveError::Resolve { file: event_file, source })?;
    let elsewhere = projects.resolver().elsewhere(&trigger);
    if args.json { to_json(&resolution, &elsewhere) } else { Ok(to_text(&resolution, &elsewhere)) }
}

/// The source host of the flags: the pull request details they give, when they give any.
fn source_host(args: &Args) -> Result<Option<LocalSourceHost>, ResolveError> {
    if args.changed_files.is_none() && args.commit_message.is_none() {
        return Ok(None);
    }
    let changed_files = match &args.changed_files {
        Some(path) => changed_files(path)?,
        None => Vec::new(),
    };
    let details =
        PullRequestDetails { changed_files, head_commit_message: args.commit_message.clone() };
    Ok(Some(LocalSourceHost::new(None, Some(details))))
}

/// The paths of a `--changed-files` list: one per line, blank lines skipped.
fn changed_files(path: &Path) -> Result<Vec<String>, InputError> {
    Ok(String::from_utf8_lossy(&read_file(path, CHANGED_FILES)?)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Every project that does not build: the delivery's repository's, then those of others.
fn skipped<'a>(r: &'a Resolution, elsewhere: &'a [Skipped]) -> impl Iterator<Item = &'a Skipped> {
    r.skipped.iter().chain(elsewhere)
}

fn to_json(r: &Resolution, elsewhere: &[Skipped]) -> Result<String, ResolveError> {
    let builds: Vec<_> = r
        .builds
        .iter()
        .map(|b| {
            json!({
                "project": b.project,
                "sourceVersion": b.source_version,
                "commit": b.commit.as_ref().map(|c| c.as_str()),
                "environmentVariables": b.environment_variables,
            })
        })
        .collect();
    let skipped: Vec<_> =
        skipped(r, elsewhere).map(|s| json!({"project": s.project, "reason": s.reason})).collect();
    let value = json!({
        "event": r.event.map(|e| e.as_str()),
        "ignored": r.ignored,
        "builds": builds,
        "skipped": skipped,
    });
    serde_json::to_string_pretty(&value).map_err(ResolveError::Json)
}

fn to_text(r: &Resolution, elsewhere: &[Skipped]) -> String {
    let mut out = Vec::new();
    out.push(format!("event: {}", r.event.map_or("none", |e| e.as_str())));
    if let Some(reason) = &r.ignored {
        out.push(format!("ignored: {reason}"));
    }
    for b in &r.builds {
        let commit = b.commit.as_ref().map_or("(resolved at fetch)", |c| c.as_str());
        let mut line =
            format!("build {}: source version {} at {commit}", b.project, b.source_version);
        if b.from_fork {
            line.push_str(if b.with_secrets {
                " (fork, with secrets)"
            } else {
                " (fork, without secrets)"
            });
        }
        out.push(line);
        for v in &b.environment_variables {
            out.push(format!("  {}={}", v.name, v.value));
        }
    }
    for s in skipped(r, elsewhere) {
        out.push(format!("skip {}: {}", s.project, s.reason));
    }
    if r.builds.is_empty() && r.ignored.is_none() {
        out.push("nothing to build".to_owned());
    }
    out.join("\n")
}
