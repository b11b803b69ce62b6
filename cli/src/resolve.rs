//! `kiln resolve`: which projects of a catalog a GitHub delivery (read from a file) would
//! build, with their source versions and `CODEBUILD_*` variables.
//!
//! A file on disk has no signature to check. A pull request's changed files and head commit
//! message are not in its payload: pass them with `--changed-files FILE` (one path per line)
//! and `--commit-message TEXT`; without them, a filter group that needs them does not build
//! and the output says why. Exit codes: 0 when the delivery was resolved (even when nothing
//! builds), 2 on usage, configuration or I/O errors, 141 when stdout is closed early
//! (`kiln resolve | head`, see [`crate::print`]).
//!
//! Every input is read with its size limit before it is buffered: the catalog with
//! [`CATALOG`], the delivery with GitHub's 25 MB cap ([`DELIVERY_BODY`]), the changed files
//! with [`CHANGED_FILES`]. Projects build only when their `source.location` is on
//! `--github-host` (default `github.com`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiln_agent::error_text::error_chain;
use kiln_core::limits::{CATALOG, DELIVERY_BODY, Limit};
use kiln_core::project::{DEFAULT_GITHUB_HOST, Extra, Resolution, Resolver, load_catalog};
use kiln_core::webhook::{Delivery, parse};
use serde_json::json;

use crate::input::{read_file, reason};
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
    /// The `X-GitHub-Event` name: push, pull_request, release, ping, ...
    #[arg(long, value_name = "NAME")]
    event_name: String,
    /// Print JSON: {"event", "ignored", "builds": [...]}.
    #[arg(long)]
    json: bool,
    /// A pull request's changed files, one path per line (for FILE_PATH filters).
    #[arg(long, value_name = "FILE")]
    changed_files: Option<PathBuf>,
    /// A pull request's head commit message (for COMMIT_MESSAGE filters and skip markers).
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

/// Runs `kiln resolve`.
pub fn run(args: &Args) -> ExitCode {
    match resolve(args) {
        Ok(text) => match print::stdout(|out| writeln!(out, "{text}")) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => error.exit_code("resolve", 2),
        },
        Err(message) => {
            print::note(&format!("kiln resolve: {message}"));
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, String> {
    read_file(path, limit).map_err(|e| format!("cannot read {}: {}", path.display(), reason(&e)))
}

fn resolve(args: &Args) -> Result<String, String> {
    let config_name = args.config.display().to_string();
    let text = String::from_utf8(read(&args.config, CATALOG)?)
        .map_err(|_| format!("{config_name} is not UTF-8"))?;
    let catalog = load_catalog(&text).map_err(|e| {
        let lines: Vec<String> =
            e.diagnostics().iter().map(|d| d.render(&config_name, &text)).collect();
        format!("invalid catalog\n{}", lines.join("\n"))
    })?;
    for w in &catalog.warnings {
        print::note(&w.render(&config_name, &text));
    }
    let resolver = Resolver::with_host(&catalog, &args.github_host)
        .map_err(|e| format!("{config_name}: {e}"))?;
    let body = read(&args.event, DELIVERY_BODY)?;
    let mut delivery = Delivery::unsigned(&args.event_name, &body)
        .map_err(|e| format!("{}: {}", args.event.display(), error_chain(&e)))?;
    delivery.user_agent.clone_from(&args.user_agent);
    let trigger = parse(&args.event_name, &delivery.payload)
        .map_err(|e| format!("{}: {}", args.event.display(), error_chain(&e)))?;
    let files: Option<Vec<String>> = match &args.changed_files {
        Some(p) => Some(
            String::from_utf8_lossy(&read(p, CHANGED_FILES)?)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        None => None,
    };
    let extra = Extra {
        changed_files: files.as_deref(),
        head_commit_message: args.commit_message.as_deref(),
    };
    let resolution = resolver.resolve(&delivery, &trigger, extra);
    Ok(if args.json { to_json(&resolution) } else { to_text(&resolution) })
}

fn to_json(r: &Resolution) -> String {
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
    let value = json!({
        "event": r.event.map(|e| e.as_str()),
        "ignored": r.ignored,
        "builds": builds,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

fn to_text(r: &Resolution) -> String {
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
    for s in &r.skipped {
        out.push(format!("skip {}: {}", s.project, s.reason));
    }
    if r.builds.is_empty() && r.ignored.is_none() {
        out.push("nothing to build".to_owned());
    }
    out.join("\n")
}
