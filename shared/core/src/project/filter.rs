//! Webhook filter groups, compiled once per catalog and matched against deliveries (spec §7.1,
//! §7.3).
//!
//! Semantics, including kiln's choices where CodeBuild's documentation is silent:
//! - groups are OR'd, the filters of a group AND'd; a project with no groups builds on every
//!   event that has an EVENT type;
//! - `EVENT` is a comma-separated list of event names, spaces around commas trimmed;
//! - every other type is a regular expression that is *searched* for in the value (Rust
//!   `Regex::is_match`, unanchored): `12345` matches `123456`; anchor with `^…$`;
//! - `excludeMatchedPattern: true` inverts a filter;
//! - a filter whose value the event does not have (`BASE_REF` on a push, `TAG_NAME` on a pull
//!   request, `HEAD_REF` on a release) fails, and so passes when excluded;
//! - `FILE_PATH` passes when *any* changed file matches; excluded, it passes only when *no*
//!   changed file matches, so `^buildspec.yml$` with exclude blocks every push that touches
//!   the buildspec, even alongside other files (the conservative reading of spec §7.3);
//! - `REPOSITORY_NAME` is tested against the repository name without its owner,
//!   `ORGANIZATION_NAME` against the owner;
//! - a value kiln could not learn (a pull request's changed files or head commit message when
//!   no source host was asked) makes the group *unevaluable*: it does not build, and says why.

use regex::Regex;

use crate::webhook::EventType;

/// A filter `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterType {
    /// `EVENT`.
    Event,
    /// `ACTOR_ACCOUNT_ID`.
    ActorAccountId,
    /// `HEAD_REF`.
    HeadRef,
    /// `BASE_REF`.
    BaseRef,
    /// `FILE_PATH`.
    FilePath,
    /// `COMMIT_MESSAGE`.
    CommitMessage,
    /// `TAG_NAME`.
    TagName,
    /// `RELEASE_NAME`.
    ReleaseName,
    /// `REPOSITORY_NAME`.
    RepositoryName,
    /// `ORGANIZATION_NAME`.
    OrganizationName,
    /// `WORKFLOW_NAME`.
    WorkflowName,
}

impl FilterType {
    /// Every type, as CodeBuild's API lists them.
    pub const ALL: [Self; 11] = [
        Self::Event,
        Self::ActorAccountId,
        Self::HeadRef,
        Self::BaseRef,
        Self::FilePath,
        Self::CommitMessage,
        Self::TagName,
        Self::ReleaseName,
        Self::RepositoryName,
        Self::OrganizationName,
        Self::WorkflowName,
    ];

    /// The name CodeBuild uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "EVENT",
            Self::ActorAccountId => "ACTOR_ACCOUNT_ID",
            Self::HeadRef => "HEAD_REF",
            Self::BaseRef => "BASE_REF",
            Self::FilePath => "FILE_PATH",
            Self::CommitMessage => "COMMIT_MESSAGE",
            Self::TagName => "TAG_NAME",
            Self::ReleaseName => "RELEASE_NAME",
            Self::RepositoryName => "REPOSITORY_NAME",
            Self::OrganizationName => "ORGANIZATION_NAME",
            Self::WorkflowName => "WORKFLOW_NAME",
        }
    }

    /// The type called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Why a filter group cannot be used. Positions are 1-based (group 1 is the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The group has no `EVENT` filter.
    #[error("filter group {group} has no EVENT filter")]
    NoEventFilter {
        /// The group's number.
        group: usize,
    },
    /// The filter's `type` is unknown.
    #[error("filter group {group}, filter {filter}: unknown filter type {name:?}")]
    UnknownType {
        /// The group's number.
        group: usize,
        /// The filter's number in its group.
        filter: usize,
        /// The type as written.
        name: String,
    },
    /// An `EVENT` pattern names an unknown event.
    #[error("filter group {group}, filter {filter}: unknown event type {name:?}")]
    UnknownEvent {
        /// The group's number.
        group: usize,
        /// The filter's number in its group.
        filter: usize,
        /// The name as written.
        name: String,
    },
    /// The legacy `branchFilter` is not a valid regular expression.
    #[error("branchFilter {pattern:?} is not a valid regular expression: {message}")]
    BranchFilter {
        /// The pattern as written.
        pattern: String,
        /// The regex crate's explanation.
        message: String,
    },
    /// A pattern is not a valid regular expression.
    #[error("filter group {group}, filter {filter}: invalid regular expression: {message}")]
    Regex {
        /// The group's number.
        group: usize,
        /// The filter's number in its group.
        filter: usize,
        /// The regex crate's explanation.
        message: String,
    },
}

#[derive(Debug, Clone)]
enum Test {
    Events(Vec<EventType>),
    Regex(FilterType, Regex),
}

#[derive(Debug, Clone)]
struct Filter {
    test: Test,
    exclude: bool,
    pattern: String,
}

/// Filter groups ready to match.
#[derive(Debug, Clone, Default)]
pub struct FilterGroups {
    groups: Vec<Vec<Filter>>,
}

/// What a delivery offers to the filters. `None` means the event has no such value, except
/// for the `*_known` cases below.
#[derive(Debug, Clone, Default)]
pub struct FilterInput<'a> {
    /// The EVENT type.
    pub event: Option<EventType>,
    /// `sender.id` as a decimal string.
    pub actor_account_id: Option<String>,
    /// `HEAD_REF`.
    pub head_ref: Option<String>,
    /// `BASE_REF`.
    pub base_ref: Option<String>,
    /// Changed files; `None` when the event has none or they are not known (see `has_files`).
    pub files: Option<&'a [String]>,
    /// Whether the event has changed files at all (push and pull requests do): then a `None`
    /// in `files` means *unknown* and makes a `FILE_PATH` filter unevaluable.
    pub has_files: bool,
    /// The head commit message; `None` when absent or unknown (see `has_commit_message`).
    pub commit_message: Option<&'a str>,
    /// Whether a `None` `commit_message` means *unknown* rather than absent: true for pull
    /// requests, whose head commit message is not in the payload; false for pushes, whose
    /// payload carries it (or has no head commit).
    pub has_commit_message: bool,
    /// `release.tag_name`.
    pub tag_name: Option<&'a str>,
    /// `release.name`.
    pub release_name: Option<&'a str>,
    /// The repository name without its owner.
    pub repository_name: Option<&'a str>,
    /// The repository owner.
    pub organization_name: Option<&'a str>,
}

/// What the filters say about one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// This group (0-based) passed.
    Pass(usize),
    /// No group passed.
    Fail(String),
    /// No group passed, but one might with values kiln did not have.
    Unevaluable {
        /// What was missing and where.
        reason: String,
        /// The changed files were needed.
        needs_files: bool,
        /// The head commit message was needed.
        needs_message: bool,
    },
}

enum FilterOutcome {
    Pass,
    Fail(String),
    Missing { files: bool },
}

impl FilterGroups {
    /// Compiles `groups`, checking every rule of spec §7.1.
    ///
    /// # Errors
    /// Every problem found, in order.
    pub fn compile(groups: &[Vec<super::WebhookFilter>]) -> Result<Self, Vec<FilterError>> {
        let mut errors = Vec::new();
        let mut out = Vec::with_capacity(groups.len());
        for (gi, group) in groups.iter().enumerate() {
            let g = gi + 1;
            let mut filters = Vec::with_capacity(group.len());
            let mut has_event = false;
            for (fi, f) in group.iter().enumerate() {
                let n = fi + 1;
                let exclude = f.exclude_matched_pattern.unwrap_or(false);
                let Some(kind) = FilterType::parse(f.filter_type.trim()) else {
                    errors.push(FilterError::UnknownType {
                        group: g,
                        filter: n,
                        name: f.filter_type.clone(),
                    });
                    continue;
                };
                let test = if kind == FilterType::Event {
                    has_event = true;
                    let mut events = Vec::new();
                    for name in f.pattern.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        match name.parse::<EventType>() {
                            Ok(e) => events.push(e),
                            Err(_) => errors.push(FilterError::UnknownEvent {
                                group: g,
                                filter: n,
                                name: name.to_owned(),
                            }),
                        }
                    }
                    Test::Events(events)
                } else {
                    match Regex::new(&f.pattern) {
                        Ok(re) => Test::Regex(kind, re),
                        Err(e) => {
                            errors.push(FilterError::Regex {
                                group: g,
                                filter: n,
                                message: e.to_string(),
                            });
                            continue;
                        }
                    }
                };
                filters.push(Filter { test, exclude, pattern: f.pattern.clone() });
            }
            if !has_event {
                errors.push(FilterError::NoEventFilter { group: g });
            }
            out.push(filters);
        }
        if errors.is_empty() { Ok(Self { groups: out }) } else { Err(errors) }
    }

    /// Whether any group may depend on the changed files or the commit message.
    pub fn uses(&self, kind: FilterType) -> bool {
        self.groups.iter().flatten().any(|f| matches!(&f.test, Test::Regex(k, _) if *k == kind))
    }

    /// Matches `input` against the groups (see the module docs for the rules).
    pub fn matches(&self, input: &FilterInput<'_>) -> Verdict {
        if self.groups.is_empty() {
            return match input.event {
                Some(_) => Verdict::Pass(0),
                None => Verdict::Fail("the event has no CodeBuild event type".to_owned()),
            };
        }
        let mut fails = Vec::new();
        let (mut needs_files, mut needs_message) = (false, false);
        let mut unevaluable = Vec::new();
        for (gi, group) in self.groups.iter().enumerate() {
            let mut failed = None;
            let mut missing = Vec::new();
            for f in group {
                match f.check(input) {
                    FilterOutcome::Pass => {}
                    FilterOutcome::Fail(why) => {
                        failed = Some(why);
                        break;
                    }
                    FilterOutcome::Missing { files } => missing.push(files),
                }
            }
            match failed {
                Some(why) => fails.push(format!("group {}: {why}", gi + 1)),
                None if missing.is_empty() => return Verdict::Pass(gi),
                None => {
                    let what = missing
                        .iter()
                        .map(|&files| if files { "changed files" } else { "head commit message" })
                        .collect::<Vec<_>>()
                        .join(" and ");
                    needs_files |= missing.iter().any(|&f| f);
                    needs_message |= missing.iter().any(|&f| !f);
                    unevaluable.push(format!(
                        "group {}: needs the pull request's {what}, which kiln was not given",
                        gi + 1
                    ));
                }
            }
        }
        if unevaluable.is_empty() {
            Verdict::Fail(fails.join("; "))
        } else {
            Verdict::Unevaluable { reason: unevaluable.join("; "), needs_files, needs_message }
        }
    }
}

impl Filter {
    fn check(&self, input: &FilterInput<'_>) -> FilterOutcome {
        let (kind, re) = match &self.test {
            Test::Events(events) => {
                let hit = input.event.is_some_and(|e| events.contains(&e));
                return self.outcome(hit, "EVENT", input.event.map_or("none", |e| e.as_str()));
            }
            Test::Regex(kind, re) => (*kind, re),
        };
        let value: Option<&str> = match kind {
            FilterType::Event => None,
            FilterType::ActorAccountId => input.actor_account_id.as_deref(),
            FilterType::HeadRef => input.head_ref.as_deref(),
            FilterType::BaseRef => input.base_ref.as_deref(),
            FilterType::FilePath => {
                if !input.has_files {
                    None
                } else if let Some(files) = input.files {
                    let hit = files.iter().any(|f| re.is_match(f));
                    return self.outcome(hit, kind.as_str(), "the changed files");
                } else {
                    return FilterOutcome::Missing { files: true };
                }
            }
            FilterType::CommitMessage => match input.commit_message {
                Some(m) => Some(m),
                None if input.has_commit_message => {
                    return FilterOutcome::Missing { files: false };
                }
                None => None,
            },
            FilterType::TagName => input.tag_name,
            FilterType::ReleaseName => input.release_name,
            FilterType::RepositoryName => input.repository_name,
            FilterType::OrganizationName => input.organization_name,
            FilterType::WorkflowName => None,
        };
        match value {
            Some(v) => self.outcome(re.is_match(v), kind.as_str(), v),
            None if self.exclude => FilterOutcome::Pass,
            None => FilterOutcome::Fail(format!("{} has no value for this event", kind.as_str())),
        }
    }

    fn outcome(&self, hit: bool, kind: &str, value: &str) -> FilterOutcome {
        match (hit, self.exclude) {
            (true, false) | (false, true) => FilterOutcome::Pass,
            (false, false) => {
                FilterOutcome::Fail(format!("{kind} {:?} does not match {value}", self.pattern))
            }
            (true, true) => {
                FilterOutcome::Fail(format!("{kind} {:?} (excluded) matches {value}", self.pattern))
            }
        }
    }
}
