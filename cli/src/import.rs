//! `kiln import [--names NAME,...|--all]`: the catalog of real CodeBuild projects, as YAML on
//! stdout, that `kiln run --config` and the cloud's `KILN_CATALOG` read unchanged.
//!
//! The projects come from `aws-sdk-codebuild` with the standard AWS configuration (region,
//! credentials, `AWS_ENDPOINT_URL`): with `--all`, every page of `ListProjects` (by name);
//! then `BatchGetProjects` in batches of 100, its answers in the order asked. Each project is
//! written with CodeBuild's field names ([`convert`]) by a YAML writer of kiln's own
//! ([`yaml`]), and each setting kiln will not carry out is a warning on stderr
//! (`kiln import: warning: project NAME: FIELD: reason`); so is anything in the written
//! catalog that kiln's catalog check would refuse.
//!
//! Exit codes: 0 when every project was found; 1 when some were not (CodeBuild's
//! `projectsNotFound`, or names it did not answer for): the catalog of the others is still
//! written and the missing ones are named on stderr; 2 when AWS could not be reached or
//! refused (no region, no credentials, access denied), with the reason and nothing on stdout.

use std::io::Write;
use std::process::ExitCode;

use aws_sdk_codebuild::Client;
use aws_sdk_codebuild::types::{ProjectSortByType, SortOrderType};
use kiln_aws::AwsError;
use kiln_core::error_chain;

mod convert;
mod yaml;

use convert::Imported;
use yaml::{MapBuilder, Value};

/// BatchGetProjects takes at most this many names.
const BATCH: usize = 100;

/// Arguments of `kiln import`.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("which").required(true).args(["names", "all"])),
    after_help = "AWS is configured the standard way: AWS_REGION (or a profile's region), credentials from the environment, a profile or an instance role, and AWS_ENDPOINT_URL for another endpoint.\n\nExit status: 0 when every project was found, 1 when some were not (the others are still written), 2 when AWS could not be reached or refused."
)]
pub struct Args {
    /// The projects to import, by name or ARN, comma-separated.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    names: Vec<String>,
    /// Import every project of the account and region.
    #[arg(long)]
    all: bool,
}

/// Why nothing could be imported (exit 2).
#[derive(Debug, thiserror::Error)]
enum ImportError {
    #[error("start the runtime")]
    Runtime(#[source] std::io::Error),
    #[error("find the AWS region: set AWS_REGION, or a region in the AWS profile")]
    NoRegion,
    #[error("list the CodeBuild projects")]
    List(#[source] AwsError),
    #[error("read the CodeBuild projects {0}")]
    Get(String, #[source] AwsError),
    #[error("write the catalog")]
    Write(#[source] std::io::Error),
}

/// What `BatchGetProjects` gave for the names asked.
#[derive(Debug, Default)]
struct Found {
    projects: Vec<Imported>,
    not_found: Vec<String>,
}

/// Runs `kiln import`.
pub fn run(args: &Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let outcome = runtime.map_err(ImportError::Runtime).and_then(|rt| rt.block_on(import(args)));
    match outcome {
        Ok(found) => {
            if found.not_found.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!("kiln import: error: not found: {}", found.not_found.join(", "));
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("kiln import: error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

async fn import(args: &Args) -> Result<Found, ImportError> {
    let sdk = kiln_aws::load_sdk_config().await;
    if sdk.region().is_none() {
        return Err(ImportError::NoRegion);
    }
    let client = Client::new(&sdk);
    let names = if args.all { list_all(&client).await? } else { unique(&args.names) };
    let found = fetch(&client, &names).await?;
    if args.all && names.is_empty() {
        let region = sdk.region().map(ToString::to_string).unwrap_or_default();
        eprintln!("kiln import: warning: no CodeBuild projects in {region}");
    }
    let text = catalog_text(&found.projects);
    for project in &found.projects {
        for warning in &project.warnings {
            eprintln!("kiln import: warning: project {}: {warning}", project.name);
        }
    }
    for problem in self_check(&text) {
        eprintln!("kiln import: warning: kiln run --config will refuse this catalog: {problem}");
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(ImportError::Write)?;
    Ok(found)
}

/// The names in `names`, each once, in their first order, without empty ones.
fn unique(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !out.iter().any(|o| o == name) {
            out.push(name.to_owned());
        }
    }
    out
}

/// Every project name of the account and region, by name, through every page.
async fn list_all(client: &Client) -> Result<Vec<String>, ImportError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_projects()
            .sort_by(ProjectSortByType::Name)
            .sort_order(SortOrderType::Ascending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| ImportError::List(kiln_aws::error::aws_error(e).1))?;
        names.extend(page.projects().iter().cloned());
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(unique(&names))
}

/// The projects `names` asks for, in that order, 100 names a call.
async fn fetch(client: &Client, names: &[String]) -> Result<Found, ImportError> {
    let mut found = Found::default();
    for batch in names.chunks(BATCH) {
        let answer = client
            .batch_get_projects()
            .set_names(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| ImportError::Get(batch.join(", "), kiln_aws::error::aws_error(e).1))?;
        let projects = answer.projects();
        for name in batch {
            let project = projects
                .iter()
                .find(|p| p.name() == Some(name.as_str()) || p.arn() == Some(name.as_str()));
            match project {
                Some(project) => found.projects.push(convert::import(project)),
                None => found.not_found.push(name.clone()),
            }
        }
        for missing in answer.projects_not_found() {
            if !found.not_found.contains(missing) {
                found.not_found.push(missing.clone());
            }
        }
    }
    Ok(found)
}

/// The catalog file: a comment, then `projects:` with each project.
fn catalog_text(projects: &[Imported]) -> String {
    let list = Value::Seq(projects.iter().map(|p| p.value.clone()).collect());
    let catalog = MapBuilder::new().value("projects", Some(list)).build();
    format!(
        "# kiln catalog: CodeBuild projects as kiln import read them (CodeBuild's field names).\n{}",
        yaml::to_yaml(&catalog)
    )
}

/// What kiln's catalog check says of `text`: its errors, one line each.
fn self_check(text: &str) -> Vec<String> {
    match kiln_core::project::load_catalog(text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics()
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect(),
    }
}

#[cfg(test)]
mod tests;
