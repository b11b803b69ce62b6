//! Which projects a delivery builds: repository match, filter groups, kiln's settings, and one
//! [`BuildRequest`] per matching project.
//!
//! Order of the checks for each project whose `source.location` names the delivery's
//! repository: host → webhook configured → filter groups → fork policy → draft pull requests
//! → skip markers in the head commit message. Projects of other repositories are not part of
//! a [`Resolution`]; [`Resolver::elsewhere`] lists them for a user who asks (`kiln resolve`).
//! A resolver serves one GitHub web host ([`Resolver::with_host`]; `github.com`
//! by default, a GitHub Enterprise Server's otherwise): a project whose location names the
//! same `owner/name` on another host (`https://gitlab.example.com/o/r`) watches another
//! repository, and is skipped saying so.
//! A project without a `webhook` section never builds from deliveries, as in CodeBuild; one
//! with a `webhook` but no filter groups builds on every event that has an EVENT type. The
//! legacy `branchFilter` applies only when there are no filter groups, to the branch of
//! `HEAD_REF` (tags and releases never match it).

use std::collections::HashMap;

use regex::Regex;
use serde::Serialize;

use super::catalog::Catalog;
use super::filter::{FilterError, FilterGroups, FilterInput, FilterType, Verdict};
use super::request::{BuildRequest, WebhookBuild};
use super::settings::{
    DEFAULT_GITHUB_HOST, ForkPolicy, RepositoryLocation, Settings, project_location, skip_marker,
};
use crate::ports::{PortError, PullRequestDetails, SourceHost};
use crate::webhook::{
    Delivery, DeliveryHeaders, EventType, ParseError, RefKind, Trigger, VerifyError, event_type,
    parse, ref_kind, verify,
};
use secrecy::SecretString;

/// A project of the delivery's repository that does not build, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The project.
    pub project: String,
    /// Why it does not build.
    pub reason: String,
}

/// Everything a delivery resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The CodeBuild event type, when the delivery has one.
    pub event: Option<EventType>,
    /// Why the whole delivery builds nothing (ping, unknown event, deleted ref...).
    pub ignored: Option<String>,
    /// One request per project that builds, in catalog order.
    pub builds: Vec<BuildRequest>,
    /// The projects of the repository that do not build, with the reason.
    pub skipped: Vec<Skipped>,
}

/// The last line of a regex error, without `error: `: the part that says what is wrong.
pub(super) fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

/// A project's filter groups (or its legacy `branchFilter`) are invalid: the resolver never
/// reads an uncompilable filter as "no filter".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("project {project}: {source}")]
pub struct ResolverError {
    /// The project.
    pub project: String,
    /// The first problem.
    #[source]
    pub source: super::filter::FilterError,
}

#[derive(Debug, Clone)]
struct Candidate {
    name: String,
    location: RepositoryLocation,
    groups: Option<FilterGroups>,
    branch_filter: Option<Regex>,
    settings: Settings,
}

/// A catalog ready to resolve deliveries: filter groups compiled, projects indexed by
/// repository. Build it once and reuse it.
#[derive(Debug, Clone)]
pub struct Resolver {
    candidates: Vec<Candidate>,
    by_repo: HashMap<String, Vec<usize>>,
    host: String,
}

impl Default for Resolver {
    /// A resolver of no project, serving `github.com`.
    fn default() -> Self {
        Self { candidates: Vec::new(), by_repo: HashMap::new(), host: DEFAULT_GITHUB_HOST.into() }
    }
}

/// What the pull request offers beyond its payload, when a source host was asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra<'a> {
    /// The changed files.
    pub changed_files: Option<&'a [String]>,
    /// The head commit message.
    pub head_commit_message: Option<&'a str>,
}

impl<'a> From<&'a PullRequestDetails> for Extra<'a> {
    fn from(d: &'a PullRequestDetails) -> Self {
        Self {
            changed_files: Some(&d.changed_files),
            head_commit_message: d.head_commit_message.as_deref(),
        }
    }
}

impl Resolver {
    /// Compiles the catalog's filter groups and indexes its projects by repository, for
    /// deliveries from `github.com`.
    ///
    /// # Errors
    /// [`ResolverError`] for the first project with invalid filter groups (catalog validation
    /// reports all of them when the catalog loads).
    pub fn new(catalog: &Catalog) -> Result<Self, ResolverError> {
        Self::with_host(catalog, DEFAULT_GITHUB_HOST)
    }

    /// As [`Resolver::new`], for deliveries from the GitHub whose web host is `host`
    /// (`github.com`, or a GitHub Enterprise Server's such as `ghe.example.com`; see
    /// [`super::github_host_of_api_url`]): only projects whose `source.location` is on that
    /// host build.
    ///
    /// # Errors
    /// As [`Resolver::new`].
    pub fn with_host(catalog: &Catalog, host: &str) -> Result<Self, ResolverError> {
        let mut r = Self { host: host.to_owned(), ..Self::default() };
        for p in &catalog.projects {
            let Some(location) = project_location(p) else { continue };
            let repo = location.key.clone();
            let groups = match &p.webhook {
                None => None,
                Some(w) => Some(FilterGroups::compile(&w.filter_groups).map_err(|mut e| {
                    ResolverError { project: p.name.clone(), source: e.remove(0) }
                })?),
            };
            let branch_filter = p
                .webhook
                .as_ref()
                .filter(|w| w.filter_groups.is_empty())
                .and_then(|w| w.branch_filter.as_deref())
                .filter(|b| !b.is_empty())
                .map(|b| {
                    Regex::new(b).map_err(|e| ResolverError {
                        project: p.name.clone(),
                        source: FilterError::BranchFilter {
                            pattern: b.to_owned(),
                            message: regex_message(&e),
                        },
                    })
                })
                .transpose()?;
            r.by_repo.entry(repo).or_default().push(r.candidates.len());
            r.candidates.push(Candidate {
                name: p.name.clone(),
                location,
                groups,
                branch_filter,
                settings: Settings::of(p.kiln.as_ref()),
            });
        }
        Ok(r)
    }

    /// Resolves a delivery with what its payload and `extra` say. Filters that need a pull
    /// request's changed files or head commit message, when `extra` lacks them, do not build
    /// and say so in [`Resolution::skipped`].
    pub fn resolve(&self, delivery: &Delivery, trigger: &Trigger, extra: Extra<'_>) -> Resolution {
        self.resolve_inner(delivery, trigger, extra).0
    }

    /// Resolves a delivery, asking `host` for a pull request's changed files and head commit
    /// message only when some project's filters need them.
    ///
    /// # Errors
    /// The host's [`PortError`].
    pub async fn resolve_with_host(
        &self,
        delivery: &Delivery,
        trigger: &Trigger,
        host: &dyn SourceHost,
    ) -> Result<Resolution, PortError> {
        let (first, needs_host) = self.resolve_inner(delivery, trigger, Extra::default());
        let Trigger::PullRequest(pr) = trigger else { return Ok(first) };
        if !needs_host {
            return Ok(first);
        }
        let details =
            host.pull_request_details(&pr.repository.full_name, pr.number, &pr.head_sha).await?;
        Ok(self.resolve_inner(delivery, trigger, Extra::from(&details)).0)
    }

    fn resolve_inner(
        &self,
        delivery: &Delivery,
        trigger: &Trigger,
        extra: Extra<'_>,
    ) -> (Resolution, bool) {
        let event = event_type(trigger).ok();
        let mut res = Resolution { event, ignored: None, builds: Vec::new(), skipped: Vec::new() };
        let build = match WebhookBuild::of(delivery, trigger) {
            Ok(b) => b,
            Err(reason) => {
                res.event = None;
                res.ignored = Some(reason);
                return (res, false);
            }
        };
        let Some(repo) = trigger.repository() else { return (res, false) };
        let Some(indices) = self.by_repo.get(repo.full_name.key()) else {
            res.ignored = Some(format!("no project builds {}", repo.full_name));
            return (res, false);
        };
        let input = filter_input(trigger, event, extra);
        let message = match trigger {
            Trigger::Push(p) => p.head_commit_message.as_deref(),
            _ => extra.head_commit_message,
        };
        let mut needs_host = false;
        for &i in indices {
            let c = &self.candidates[i];
            match self.decide(c, trigger, &input, message) {
                Decision::Build { from_fork, with_secrets } => res.builds.push(build.request(
                    &c.name,
                    &repo.full_name,
                    from_fork,
                    with_secrets,
                )),
                Decision::Skip(reason, needs) => {
                    needs_host |= needs;
                    res.skipped.push(Skipped { project: c.name.clone(), reason });
                }
            }
        }
        (res, needs_host)
    }

    fn decide(
        &self,
        c: &Candidate,
        trigger: &Trigger,
        input: &FilterInput<'_>,
        message: Option<&str>,
    ) -> Decision {
        if !c.location.is_on(&self.host) {
            return Decision::Skip(
                format!(
                    "the project watches another host: its source.location is on {}, deliveries come from {}",
                    c.location.host, self.host
                ),
                false,
            );
        }
        let Some(groups) = &c.groups else {
            return Decision::Skip("the project has no webhook".to_owned(), false);
        };
        match groups.matches(input) {
            Verdict::Pass(_) => {}
            Verdict::Fail(why) => {
                return Decision::Skip(format!("no filter group passes: {why}"), false);
            }
            Verdict::Unevaluable { reason, .. } => return Decision::Skip(reason, true),
        }
        if let Some(re) = &c.branch_filter {
            let branch = input.head_ref.as_deref().map(ref_kind);
            if !matches!(branch, Some(RefKind::Branch(b)) if re.is_match(b)) {
                return Decision::Skip(
                    format!("branchFilter {:?} does not match the branch", re.as_str()),
                    false,
                );
            }
        }
        let (mut from_fork, mut with_secrets) = (false, true);
        if let Trigger::PullRequest(pr) = trigger {
            if pr.from_fork() {
                from_fork = true;
                match c.settings.fork_pull_requests {
                    ForkPolicy::Never => {
                        return Decision::Skip(
                            "pull request from a fork and kiln.forkPullRequests is never"
                                .to_owned(),
                            false,
                        );
                    }
                    ForkPolicy::WithoutSecrets => with_secrets = false,
                    ForkPolicy::Always => {}
                }
            }
            if pr.draft && c.settings.skip_draft_pull_requests {
                return Decision::Skip(
                    "draft pull request and kiln.skipDraftPullRequests is true".to_owned(),
                    false,
                );
            }
        }
        if c.settings.skip_ci_markers
            && let Some(marker) = message.and_then(skip_marker)
        {
            return Decision::Skip(format!("the head commit message contains {marker}"), false);
        }
        Decision::Build { from_fork, with_secrets }
    }

    /// The whole intake of one delivery without a source host: verify the signature over the
    /// raw body, parse, resolve. Nothing is parsed unless the signature checks out.
    ///
    /// # Errors
    /// [`IntakeError`] when the delivery is refused or its payload unreadable.
    pub fn intake(
        &self,
        headers: &DeliveryHeaders,
        body: &[u8],
        secret: &SecretString,
    ) -> Result<Intake, IntakeError> {
        let delivery = verify(headers, body, secret)?;
        let trigger = parse(&delivery.event_name, &delivery.payload)?;
        let resolution = self.resolve(&delivery, &trigger, Extra::default());
        Ok(Intake { delivery, trigger, resolution })
    }

    /// The projects that watch another repository than the delivery's (their
    /// `source.location` names another `owner/name`), in catalog order, each with the reason
    /// `watches OWNER/NAME` (`watches OWNER/NAME on HOST` when the location is on another
    /// host than the resolver's). Empty for a delivery without a repository (a ping). Projects
    /// without a GitHub location are not listed: they never build from deliveries.
    pub fn elsewhere(&self, trigger: &Trigger) -> Vec<Skipped> {
        let Some(repo) = trigger.repository() else { return Vec::new() };
        let key = repo.full_name.key();
        self.candidates
            .iter()
            .filter(|c| c.location.key != key)
            .map(|c| {
                let reason = if c.location.is_on(&self.host) {
                    format!("watches {}", c.location.key)
                } else {
                    format!("watches {} on {}", c.location.key, c.location.host)
                };
                Skipped { project: c.name.clone(), reason }
            })
            .collect()
    }

    /// Whether any project's filters test `kind` (a host adapter may prefetch).
    pub fn uses(&self, kind: FilterType) -> bool {
        self.candidates.iter().filter_map(|c| c.groups.as_ref()).any(|g| g.uses(kind))
    }
}

/// A delivery taken in: what was received, what it means, what it builds.
#[derive(Debug, Clone)]
pub struct Intake {
    /// The verified delivery.
    pub delivery: Delivery,
    /// Its event.
    pub trigger: Trigger,
    /// What it builds.
    pub resolution: Resolution,
}

/// Why a delivery was not taken in.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The signature, size, headers or encoding were refused.
    #[error("delivery refused")]
    Refused(#[from] VerifyError),
    /// The payload of a known event does not have GitHub's shape.
    #[error("delivery payload unreadable")]
    Payload(#[from] ParseError),
}

enum Decision {
    Build { from_fork: bool, with_secrets: bool },
    Skip(String, bool),
}

fn filter_input<'a>(
    trigger: &'a Trigger,
    event: Option<EventType>,
    extra: Extra<'a>,
) -> FilterInput<'a> {
    let repo = trigger.repository();
    let mut input = FilterInput {
        event,
        actor_account_id: trigger.sender().map(|s| s.id.to_string()),
        repository_name: repo.map(|r| r.full_name.name()),
        organization_name: repo.map(|r| r.full_name.owner()),
        ..FilterInput::default()
    };
    match trigger {
        Trigger::Push(p) => {
            input.head_ref = Some(p.git_ref.clone());
            input.files = Some(&p.changed_files);
            input.has_files = true;
            input.commit_message = p.head_commit_message.as_deref();
            input.has_commit_message = false;
        }
        Trigger::PullRequest(pr) => {
            input.head_ref = Some(format!("refs/heads/{}", pr.head_ref));
            input.base_ref = Some(format!("refs/heads/{}", pr.base_ref));
            input.files = extra.changed_files;
            input.has_files = true;
            input.commit_message = extra.head_commit_message;
            input.has_commit_message = true;
        }
        Trigger::Release(r) => {
            input.tag_name = Some(&r.tag_name);
            input.release_name = r.name.as_deref();
        }
        Trigger::Ping { .. } | Trigger::Ignored { .. } => {}
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{Project, ProjectSource, Webhook};

    fn project(branch_filter: &str) -> Project {
        Project {
            name: "app".into(),
            source: Some(ProjectSource {
                location: Some("https://github.com/o/r".into()),
                ..ProjectSource::default()
            }),
            webhook: Some(Webhook {
                branch_filter: Some(branch_filter.into()),
                ..Webhook::default()
            }),
            ..Project::default()
        }
    }

    fn watching(name: &str, location: &str) -> Project {
        Project {
            name: name.into(),
            source: Some(ProjectSource {
                location: Some(location.into()),
                ..ProjectSource::default()
            }),
            webhook: Some(Webhook::default()),
            ..Project::default()
        }
    }

    fn push_to_o_r() -> (Delivery, Trigger) {
        let body =
            br#"{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000",
            "after":"1111111111111111111111111111111111111111",
            "repository":{"full_name":"O/R","html_url":"https://github.com/O/R"}}"#;
        let delivery = Delivery::unsigned("push", body).expect("delivery");
        let trigger = parse("push", &delivery.payload).expect("push");
        (delivery, trigger)
    }

    #[test]
    fn a_location_on_another_host_is_skipped_saying_so() {
        let catalog = Catalog {
            projects: vec![
                watching("on-gitlab", "https://gitlab.example.com/o/r"),
                watching("on-github", "git@github.com:o/r.git"),
                watching("www-github", "https://www.github.com:443/o/r"),
                watching("on-ghe", "https://ghe.example.com/o/r"),
            ],
            warnings: Vec::new(),
        };
        let (delivery, trigger) = push_to_o_r();
        let res = Resolver::new(&catalog).expect("resolver").resolve(
            &delivery,
            &trigger,
            Extra::default(),
        );
        let built: Vec<&str> = res.builds.iter().map(|b| b.project.as_str()).collect();
        assert_eq!(built, ["on-github", "www-github"]);
        let skipped: Vec<(&str, &str)> =
            res.skipped.iter().map(|s| (s.project.as_str(), s.reason.as_str())).collect();
        assert_eq!(
            skipped,
            [
                (
                    "on-gitlab",
                    "the project watches another host: its source.location is on gitlab.example.com, deliveries come from github.com"
                ),
                (
                    "on-ghe",
                    "the project watches another host: its source.location is on ghe.example.com, deliveries come from github.com"
                ),
            ]
        );
        let ghe = Resolver::with_host(&catalog, "ghe.example.com").expect("resolver");
        let res = ghe.resolve(&delivery, &trigger, Extra::default());
        let built: Vec<&str> = res.builds.iter().map(|b| b.project.as_str()).collect();
        assert_eq!(built, ["on-ghe"]);
        assert_eq!(res.skipped.len(), 3);
    }

    #[test]
    fn projects_of_other_repositories_are_listed_on_request() {
        let catalog = Catalog {
            projects: vec![
                watching("app", "https://github.com/o/r"),
                watching("other", "https://github.com/Octo/Other.git"),
                watching("gitlab", "https://gitlab.example.com/octo/lab"),
                Project { name: "no-source".into(), ..Project::default() },
            ],
            warnings: Vec::new(),
        };
        let resolver = Resolver::new(&catalog).expect("resolver");
        let (delivery, trigger) = push_to_o_r();
        let res = resolver.resolve(&delivery, &trigger, Extra::default());
        assert!(res.skipped.is_empty(), "not part of the resolution: {:?}", res.skipped);
        let elsewhere: Vec<(&str, String)> = resolver
            .elsewhere(&trigger)
            .into_iter()
            .map(|s| (if s.project == "other" { "other" } else { "gitlab" }, s.reason))
            .collect();
        assert_eq!(
            elsewhere,
            [
                ("other", "watches octo/other".to_owned()),
                ("gitlab", "watches octo/lab on gitlab.example.com".to_owned()),
            ]
        );
        let ping = parse("ping", br#"{"zen":"z","hook_id":1}"#).expect("ping");
        assert!(resolver.elsewhere(&ping).is_empty());
    }

    #[test]
    fn an_uncompilable_branch_filter_is_never_read_as_no_filter() {
        let catalog = Catalog { projects: vec![project("^(main")], warnings: Vec::new() };
        let err = Resolver::new(&catalog).expect_err("an invalid branchFilter");
        assert_eq!(err.project, "app");
        assert!(matches!(err.source, FilterError::BranchFilter { .. }), "{err}");
        assert!(err.to_string().starts_with("project app: branchFilter \"^(main\" is not a valid"));
        let valid = Catalog { projects: vec![project("^main$")], warnings: Vec::new() };
        assert!(Resolver::new(&valid).is_ok());
    }
}
