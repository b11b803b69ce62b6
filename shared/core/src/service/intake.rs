//! A delivery in: the signature checked on the raw bytes before anything else, the payload
//! parsed, the projects it triggers resolved (asking the source host only when a filter needs
//! a pull request's files or head commit message), one record per build written idempotently
//! on the delivery and project, and then, for each new build, its buildspec read at the commit
//! and validated (an invalid one ends the build FAILED with the file, line and column, and no
//! task starts) and the build launched.
//!
//! [`accept`] does the part the reply depends on and answers (its resolution is
//! [`resolve_delivery`], which `kiln resolve` shares); [`start_accepted`] the rest, so
//! a server can reply at once and start builds behind it; [`intake`] does both in turn (a
//! Lambda function, which must finish before it replies). A redelivery (the same
//! `X-GitHub-Delivery`) finds its records, answers as the first time did and starts nothing.

use serde::Serialize;

use crate::build::{Build, BuildState, GitSource, NameValue, SourceSpec, WebhookOrigin};
use crate::buildspec::parse;
use crate::ports::{Created, PortError, PortErrorKind, SourceHost};
use crate::project::{
    BuildRequest, BuildspecSource, Catalog, Extra, Project, Resolution, Resolver, ResolverError,
};
use crate::webhook::{
    Delivery, DeliveryHeaders, ParseError, RefKind, Trigger, VerifyError, ref_kind, verify,
};
use secrecy::SecretString;

use super::create::{BuildPlan, create_build};
use super::finalize::{Conclusion, conclude};
use super::launch::launch;
use super::{Ports, Settings};

/// A catalog ready for deliveries: its projects and their compiled filter groups.
#[derive(Debug, Clone)]
pub struct Projects {
    catalog: Catalog,
    resolver: Resolver,
}

impl Projects {
    /// Compiles `catalog`'s filter groups.
    ///
    /// # Errors
    /// [`ResolverError`] for the first project with invalid filter groups.
    pub fn new(catalog: Catalog) -> Result<Self, ResolverError> {
        let resolver = Resolver::new(&catalog)?;
        Ok(Self { catalog, resolver })
    }

    /// Compiles `catalog`'s filter groups for deliveries from the GitHub at `host` (its web
    /// host: `github.com`, or a GitHub Enterprise Server's): projects whose `source.location`
    /// names another host never build.
    ///
    /// # Errors
    /// [`ResolverError`] for the first project with invalid filter groups.
    pub fn with_host(catalog: Catalog, host: &str) -> Result<Self, ResolverError> {
        let resolver = Resolver::with_host(&catalog, host)?;
        Ok(Self { catalog, resolver })
    }

    /// The project called `name`.
    pub fn get(&self, name: &str) -> Option<&Project> {
        self.catalog.get(name)
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The resolver.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }
}

/// One build in a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyBuild {
    /// `<project>:<uuid>`.
    pub id: String,
    /// The project.
    pub project: String,
    /// The build number.
    pub number: u64,
    /// The build page, when pages are configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The answer to a delivery: an HTTP status and a JSON body (DESIGN §4, `POST /webhook`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeReply {
    /// 202 builds started, 200 nothing to build, 401 bad or missing signature, 400
    /// malformed, 413 too large, 502 the source host failed, 503 the build store failed.
    #[serde(skip)]
    pub status: u16,
    /// The builds the delivery started (or, redelivered, had started).
    pub builds: Vec<ReplyBuild>,
    /// Why nothing builds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// What was wrong, for a refused delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl IntakeReply {
    fn refused(status: u16, error: &dyn std::error::Error) -> Self {
        Self { status, builds: Vec::new(), ignored: None, error: Some(crate::error_chain(error)) }
    }

    fn ignored(reason: String) -> Self {
        Self { status: 200, builds: Vec::new(), ignored: Some(reason), error: None }
    }

    /// The body as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// A new build to start after the reply.
#[derive(Debug, Clone)]
pub struct AcceptedBuild {
    /// Its record.
    pub build: Build,
    /// Its project.
    pub project: Project,
}

/// What [`accept`] found: the reply, and the new builds to start.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The answer to send.
    pub reply: IntakeReply,
    /// The builds that this delivery created (none for a redelivery).
    pub to_start: Vec<AcceptedBuild>,
    /// What the delivery resolved to, when it got that far.
    pub resolution: Option<Resolution>,
}

/// Why a delivery could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Refused before parsing.
    #[error("delivery refused")]
    Refused(#[from] VerifyError),
    /// The payload does not have GitHub's shape.
    #[error("delivery payload unreadable")]
    Payload(#[from] ParseError),
    /// A port failed.
    #[error("delivery not taken in")]
    Port(#[from] PortError),
}

/// Takes a delivery in up to its reply: verify, parse, resolve, record (see the module docs).
#[tracing::instrument(skip_all, fields(delivery = headers.delivery.as_deref().unwrap_or("-")))]
pub async fn accept(
    ports: Ports<'_>,
    settings: &Settings,
    projects: &Projects,
    secret: &SecretString,
    headers: &DeliveryHeaders,
    body: &[u8],
) -> Accepted {
    let refused = |reply| Accepted { reply, to_start: Vec::new(), resolution: None };
    let delivery = match verify(headers, body, secret) {
        Ok(d) => d,
        Err(e) => {
            let status = match e {
                VerifyError::TooLarge { .. } => 413,
                VerifyError::MissingSignature
                | VerifyError::Sha1Only
                | VerifyError::MalformedSignature(_)
                | VerifyError::WrongSignature => 401,
                _ => 400,
            };
            tracing::info!(status, error = %e, "delivery refused");
            return refused(IntakeReply::refused(status, &e));
        }
    };
    let (trigger, resolution) =
        match resolve_delivery(&projects.resolver, &delivery, Some(ports.source)).await {
            Ok(resolved) => resolved,
            Err(e @ (IntakeError::Payload(_) | IntakeError::Refused(_))) => {
                return refused(IntakeReply::refused(400, &e));
            }
            Err(e @ IntakeError::Port(_)) => return refused(IntakeReply::refused(502, &e)),
        };
    if let Some(reason) = &resolution.ignored {
        return Accepted {
            reply: IntakeReply::ignored(reason.clone()),
            to_start: Vec::new(),
            resolution: Some(resolution),
        };
    }
    if resolution.builds.is_empty() {
        let why = resolution
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.project, s.reason))
            .collect::<Vec<_>>()
            .join("; ");
        let reason =
            if why.is_empty() { "no project builds this delivery".to_owned() } else { why };
        return Accepted {
            reply: IntakeReply::ignored(reason),
            to_start: Vec::new(),
            resolution: Some(resolution),
        };
    }
    let mut reply = IntakeReply { status: 202, builds: Vec::new(), ignored: None, error: None };
    let mut to_start = Vec::new();
    for request in &resolution.builds {
        let Some(project) = projects.get(&request.project) else { continue };
        let plan = plan_for_delivery(request, project, &trigger, delivery.delivery_id.clone());
        match create_build(ports.builds, ports.clock, settings, project, plan).await {
            Ok(created) => {
                reply.builds.push(reply_build(settings, created.build()));
                if let Created::New(build) = created {
                    to_start.push(AcceptedBuild { build, project: project.clone() });
                }
            }
            Err(e) => {
                tracing::warn!(project = %request.project, error = %crate::error_chain(&e), "record a build");
                reply.status = 503;
                reply.error = Some(crate::error_chain(&IntakeError::Port(e)));
                break;
            }
        }
    }
    Accepted { reply, to_start, resolution: Some(resolution) }
}

/// What a delivery that got past the signature check builds: its payload parsed, then
/// resolved against `resolver`, asking `host` for a pull request's changed files and head
/// commit message only when a filter needs them. Without a host, such a filter does not
/// build and its project says why in [`Resolution::skipped`].
///
/// [`accept`] takes every delivery through it with the source host of its ports; `kiln
/// resolve` takes a delivery read from a file through it, with a host built from its flags.
///
/// # Errors
/// [`IntakeError::Payload`] when the payload does not have GitHub's shape,
/// [`IntakeError::Port`] when the host fails.
pub async fn resolve_delivery(
    resolver: &Resolver,
    delivery: &Delivery,
    host: Option<&dyn SourceHost>,
) -> Result<(Trigger, Resolution), IntakeError> {
    let trigger = crate::webhook::parse(&delivery.event_name, &delivery.payload)?;
    let resolution = match host {
        Some(host) => resolver.resolve_with_host(delivery, &trigger, host).await?,
        None => resolver.resolve(delivery, &trigger, Extra::default()),
    };
    Ok((trigger, resolution))
}

fn reply_build(settings: &Settings, build: &Build) -> ReplyBuild {
    ReplyBuild {
        id: build.identity.id(),
        project: build.identity.project.clone(),
        number: build.identity.number,
        url: settings.pages.as_ref().map(|p| p.build_page(&build.build_ref())),
    }
}

/// Starts a build [`accept`] created: its buildspec read at the commit and validated, then
/// launched. Returns its record afterwards (FAILED without a task when the buildspec is
/// invalid, FAULT when it could not start).
#[tracing::instrument(skip_all, fields(build = %accepted.build.identity.id()))]
pub async fn start_accepted(ports: Ports<'_>, accepted: AcceptedBuild) -> Build {
    let AcceptedBuild { build, project } = accepted;
    let at = build.build_ref();
    let result = match check_buildspec(ports, &build, &project).await {
        Some(reason) => {
            let conclusion = Conclusion::Forced { state: BuildState::Failed, reason };
            conclude(ports, &at, conclusion).await.map_err(|e| crate::error_chain(&e))
        }
        None => {
            super::supersede::supersede_older(ports, &build, &project).await;
            launch(ports, build.clone(), &project).await.map_err(|e| crate::error_chain(&e))
        }
    };
    match result {
        Ok(b) => b,
        Err(error) => {
            tracing::warn!(%error, "start the build; the sweeper will finish it");
            build
        }
    }
}

/// Takes a delivery in and starts every build it creates, then answers.
pub async fn intake(
    ports: Ports<'_>,
    settings: &Settings,
    projects: &Projects,
    secret: &SecretString,
    headers: &DeliveryHeaders,
    body: &[u8],
) -> IntakeReply {
    let accepted = accept(ports, settings, projects, secret, headers, body).await;
    for build in accepted.to_start {
        start_accepted(ports, build).await;
    }
    accepted.reply
}

/// Why the buildspec at the build's commit makes the build fail before it starts, if it does:
/// absent, not UTF-8, or invalid (the first error as `FILE:LINE:COL: error: MESSAGE`). `None`
/// also when the host cannot say now (the agent checks again when it runs).
async fn check_buildspec(ports: Ports<'_>, build: &Build, project: &Project) -> Option<String> {
    let location = project.buildspec_source(build.buildspec_override.as_deref());
    let (file, text) = match &location {
        BuildspecSource::Inline(text) => ("buildspec".to_owned(), text.clone()),
        BuildspecSource::Path(p) if p.starts_with("arn:aws:s3:::") => return None,
        BuildspecSource::Default | BuildspecSource::Path(_) => {
            let path = location.path()?.trim_start_matches("./").to_owned();
            let report = build.status_report.as_ref()?;
            match ports.source.file_at(&report.repository, &report.commit, &path).await {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => (path, text),
                    Err(_) => return Some(format!("{path} is not UTF-8 text")),
                },
                Err(e) if e.kind == PortErrorKind::NotFound => {
                    return Some(match location {
                        BuildspecSource::Default => "YAML file does not exist".to_owned(),
                        _ => format!("stat {path}: no such file or directory"),
                    });
                }
                Err(e) => {
                    tracing::info!(error = %crate::error_chain(&e), "buildspec not read at intake; the agent checks it");
                    return None;
                }
            }
        }
    };
    let parsed = parse(&text);
    parsed.errors().next().map(|d| d.headline(&file))
}

/// The build a delivery asks of `project`: the repository at the delivery's commit, the
/// delivery's `CODEBUILD_*` variables, statuses on its commit.
pub fn plan_for_delivery(
    request: &BuildRequest,
    project: &Project,
    trigger: &Trigger,
    delivery: Option<crate::webhook::DeliveryId>,
) -> BuildPlan {
    let derived =
        ["CODEBUILD_SOURCE_VERSION", "CODEBUILD_RESOLVED_SOURCE_VERSION", "CODEBUILD_INITIATOR"];
    let var = |name: &str| request.var(name).map(str::to_owned);
    let fetch_ref = match trigger {
        Trigger::PullRequest(pr) => Some(format!("refs/pull/{}/head", pr.number)),
        Trigger::Push(p) => match ref_kind(&p.git_ref) {
            RefKind::Branch(_) | RefKind::Tag(_) | RefKind::Other(_) => Some(p.git_ref.clone()),
        },
        Trigger::Release(r) => Some(format!("refs/tags/{}", r.tag_name)),
        Trigger::Ping { .. } | Trigger::Ignored { .. } => None,
    };
    let source = match project.source.as_ref().and_then(|s| s.location.clone()) {
        Some(url) => SourceSpec::Git(GitSource {
            url,
            commit: request.commit.clone(),
            fetch_ref,
            clone_depth: project.source.as_ref().and_then(|s| s.git_clone_depth),
            fetch_submodules: project
                .source
                .as_ref()
                .and_then(|s| s.git_submodules_config.as_ref())
                .is_some_and(|g| g.fetch_submodules),
        }),
        None => SourceSpec::NoSource,
    };
    BuildPlan {
        key: request.idempotency_key.clone(),
        source,
        source_version: Some(request.source_version.clone()),
        resolved_source_version: request.commit.as_ref().map(|c| c.as_str().to_owned()),
        initiator: var("CODEBUILD_INITIATOR").unwrap_or_default(),
        timeout_seconds: None,
        with_secrets: request.with_secrets,
        buildspec_override: None,
        builtin_variables: request
            .environment_variables
            .iter()
            .filter(|v| !derived.contains(&v.name.as_str()))
            .map(|v| NameValue::new(v.name.clone(), v.value.clone()))
            .collect(),
        environment_variables_override: Vec::new(),
        webhook: Some(WebhookOrigin {
            delivery,
            event: request.event,
            repository: request.repository.clone(),
            trigger: var("CODEBUILD_WEBHOOK_TRIGGER"),
            from_fork: request.from_fork,
        }),
        report_on: request.commit.clone().map(|c| (request.repository.clone(), c)),
    }
}
