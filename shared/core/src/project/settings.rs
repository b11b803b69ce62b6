//! kiln's own per-project settings (`kiln:`) with their defaults, and the repository a
//! project's `source.location` names.

use super::model::{KilnSettings, Project};

/// `kiln.forkPullRequests`: what to do with pull requests from forks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForkPolicy {
    /// `never`: fork pull requests build nothing.
    Never,
    /// `without-secrets` (default): they build, without the project's secrets.
    #[default]
    WithoutSecrets,
    /// `always`: they build with secrets, like any other pull request.
    Always,
}

impl ForkPolicy {
    /// The accepted spellings.
    pub const NAMES: [&'static str; 3] = ["never", "without-secrets", "always"];

    /// The policy called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "never" => Some(Self::Never),
            "without-secrets" => Some(Self::WithoutSecrets),
            "always" => Some(Self::Always),
            _ => None,
        }
    }
}

/// kiln's settings for one project, defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `forkPullRequests`, default `without-secrets`.
    pub fork_pull_requests: ForkPolicy,
    /// `skipDraftPullRequests`, default true: no pull request event of a draft builds.
    pub skip_draft_pull_requests: bool,
    /// `skipCiMarkers`, default true: a head commit message with `[skip ci]`, `[ci skip]`,
    /// `[no ci]` or `[skip kiln]` (any case) builds nothing. A push's head commit message is
    /// in its payload; a pull request's is known only when a source host was asked for it
    /// (because a filter needed it) or `kiln resolve --commit-message` gave it — intake does not
    /// call GitHub for skip markers alone.
    pub skip_ci_markers: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            fork_pull_requests: ForkPolicy::default(),
            skip_draft_pull_requests: true,
            skip_ci_markers: true,
        }
    }
}

impl Settings {
    /// The settings of `kiln`, defaults for what is absent. An unknown fork policy (which
    /// catalog validation reports as an error) falls back to the default.
    pub fn of(kiln: Option<&KilnSettings>) -> Self {
        let d = Self::default();
        let Some(k) = kiln else { return d };
        Self {
            fork_pull_requests: k
                .fork_pull_requests
                .as_deref()
                .and_then(ForkPolicy::parse)
                .unwrap_or(d.fork_pull_requests),
            skip_draft_pull_requests: k
                .skip_draft_pull_requests
                .unwrap_or(d.skip_draft_pull_requests),
            skip_ci_markers: k.skip_ci_markers.unwrap_or(d.skip_ci_markers),
        }
    }
}

/// The skip markers kiln honours in a head commit message.
pub const SKIP_MARKERS: [&str; 4] = ["[skip ci]", "[ci skip]", "[no ci]", "[skip kiln]"];

/// The marker in `message`, compared without regard to case.
pub fn skip_marker(message: &str) -> Option<&'static str> {
    let lower = message.to_ascii_lowercase();
    SKIP_MARKERS.into_iter().find(|m| lower.contains(m))
}

/// The `owner/name` in lower case that a repository URL names: `https://github.com/o/r`,
/// `https://github.com/o/r.git`, `git@github.com:o/r.git`, `ssh://git@github.com/o/r`.
/// The host is not compared (kiln serves one GitHub per installation).
pub fn repository_key(location: &str) -> Option<String> {
    let trimmed = location.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    let path = if let Some((_, rest)) = trimmed.split_once("://") {
        rest.split_once('/').map(|(_, p)| p)?
    } else if let Some((_, rest)) = trimmed.split_once(':') {
        rest
    } else {
        return None;
    };
    let mut parts = path.rsplit('/');
    let name = parts.next().filter(|s| !s.is_empty())?;
    let owner = parts.next().filter(|s| !s.is_empty())?;
    Some(format!("{owner}/{name}").to_ascii_lowercase())
}

/// The repository key of a project whose source is on GitHub, if any.
pub fn project_repository(project: &Project) -> Option<String> {
    let source = project.source.as_ref()?;
    let github =
        source.source_type.as_deref().is_none_or(|t| matches!(t, "GITHUB" | "GITHUB_ENTERPRISE"));
    if !github {
        return None;
    }
    repository_key(source.location.as_deref()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_location_form_names_the_same_repository() {
        for loc in [
            "https://github.com/Owner/Repo",
            "https://github.com/owner/repo.git",
            "https://github.com/owner/repo/",
            "git@github.com:OWNER/repo.git",
            "ssh://git@github.com/owner/repo.git",
            "https://token@github.example.com/owner/repo",
        ] {
            assert_eq!(repository_key(loc).as_deref(), Some("owner/repo"), "{loc}");
        }
        assert_eq!(repository_key("repo"), None);
        assert_eq!(repository_key("https://github.com/"), None);
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Settings::of(None), Settings::default());
        let k = KilnSettings {
            fork_pull_requests: Some("never".into()),
            skip_draft_pull_requests: Some(false),
            skip_ci_markers: None,
            spot: None,
        };
        let s = Settings::of(Some(&k));
        assert_eq!(s.fork_pull_requests, ForkPolicy::Never);
        assert!(!s.skip_draft_pull_requests);
        assert!(s.skip_ci_markers);
    }

    #[test]
    fn skip_markers_any_case() {
        assert_eq!(skip_marker("fix typo [Skip CI]"), Some("[skip ci]"));
        assert_eq!(skip_marker("docs\n\n[skip kiln]"), Some("[skip kiln]"));
        assert_eq!(skip_marker("skip ci"), None);
    }
}
