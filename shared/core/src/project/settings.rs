//! kiln's own per-project settings (`kiln:`) with their defaults, and the host and
//! repository a project's `source.location` names.

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

/// The GitHub web host kiln serves unless told otherwise.
pub const DEFAULT_GITHUB_HOST: &str = "github.com";

/// A repository URL taken apart: the host it names and the repository's `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryLocation {
    /// The host in lower case, without user, port or a leading `www.`: `github.com`.
    pub host: String,
    /// `owner/name` in lower case.
    pub key: String,
}

impl RepositoryLocation {
    /// Whether this location is on `host` (a GitHub web host such as `github.com` or a
    /// GitHub Enterprise Server's): compared in lower case, without port or a leading `www.`;
    /// `ssh.github.com` (GitHub's SSH over port 443) counts as `github.com`.
    pub fn is_on(&self, host: &str) -> bool {
        let served = normalize_host(host);
        self.host == served || (served == DEFAULT_GITHUB_HOST && self.host == "ssh.github.com")
    }
}

/// A host as locations are compared: lower case, no trailing dot, no leading `www.`.
fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) => rest.to_owned(),
        None => host,
    }
}

/// The host and `owner/name` a repository URL names: `https://github.com/o/r`,
/// `https://github.com/o/r.git`, `https://token@github.com:443/o/r`, `git@github.com:o/r.git`,
/// `ssh://git@github.com:22/o/r`. `None` for text that names no host and repository.
pub fn repository_location(location: &str) -> Option<RepositoryLocation> {
    let trimmed = location.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    let (authority, path) = if let Some((_, rest)) = trimmed.split_once("://") {
        rest.split_once('/')?
    } else {
        // scp-like `user@host:owner/name`.
        trimmed.split_once(':')?
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(h, _)| h)?,
        None => host_port.split_once(':').map_or(host_port, |(h, _)| h),
    };
    if host.is_empty() {
        return None;
    }
    let mut parts = path.rsplit('/');
    let name = parts.next().filter(|s| !s.is_empty())?;
    let owner = parts.next().filter(|s| !s.is_empty())?;
    Some(RepositoryLocation {
        host: normalize_host(host),
        key: format!("{owner}/{name}").to_ascii_lowercase(),
    })
}

/// The `owner/name` in lower case that a repository URL names, whatever its host (see
/// [`repository_location`], which keeps the host).
pub fn repository_key(location: &str) -> Option<String> {
    repository_location(location).map(|l| l.key)
}

/// The web host of a GitHub API URL: `https://api.github.com` → `github.com`, a GitHub
/// Enterprise Server's `https://ghe.example.com/api/v3` → `ghe.example.com`.
pub fn github_host_of_api_url(api_url: &str) -> Option<String> {
    let rest = api_url.trim().split_once("://").map_or(api_url.trim(), |(_, r)| r);
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = normalize_host(host.split_once(':').map_or(host, |(h, _)| h));
    Some(host.strip_prefix("api.").map_or_else(|| host.clone(), str::to_owned))
}

/// Where a project whose source is on GitHub (type `GITHUB`, `GITHUB_ENTERPRISE` or none)
/// says its repository is, if anywhere.
pub fn project_location(project: &Project) -> Option<RepositoryLocation> {
    let source = project.source.as_ref()?;
    let github =
        source.source_type.as_deref().is_none_or(|t| matches!(t, "GITHUB" | "GITHUB_ENTERPRISE"));
    if !github {
        return None;
    }
    repository_location(source.location.as_deref()?)
}

/// The repository key of a project whose source is on GitHub, if any (its host is not
/// compared: see [`project_location`]).
pub fn project_repository(project: &Project) -> Option<String> {
    project_location(project).map(|l| l.key)
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
    fn locations_keep_their_host() {
        for loc in [
            "https://github.com/o/r",
            "https://www.GitHub.com/o/r.git",
            "https://x-access-token:t@github.com:443/o/r",
            "git@github.com:o/r.git",
            "ssh://git@github.com:22/o/r",
            "ssh://git@ssh.github.com:443/o/r.git",
        ] {
            let l = repository_location(loc).expect(loc);
            assert!(l.is_on("github.com"), "{loc}: {l:?}");
            assert!(l.is_on("GitHub.com"), "{loc}");
            assert!(!l.is_on("ghe.example.com"), "{loc}");
            assert_eq!(l.key, "o/r");
        }
        let other = repository_location("https://gitlab.example.com/o/r").expect("gitlab");
        assert_eq!(other.host, "gitlab.example.com");
        assert!(!other.is_on("github.com"));
        let ghe = repository_location("git@ghe.example.com:o/r.git").expect("ghe");
        assert!(ghe.is_on("ghe.example.com") && !ghe.is_on("github.com"));
        assert!(repository_location("https://[::1]:8443/o/r").is_some_and(|l| l.host == "::1"));
        assert_eq!(repository_location(":o/r"), None);
    }

    #[test]
    fn the_web_host_of_an_api_url() {
        assert_eq!(github_host_of_api_url("https://api.github.com").as_deref(), Some("github.com"));
        assert_eq!(
            github_host_of_api_url("https://ghe.example.com/api/v3").as_deref(),
            Some("ghe.example.com")
        );
        assert_eq!(github_host_of_api_url("http://127.0.0.1:9000/").as_deref(), Some("127.0.0.1"));
        assert_eq!(github_host_of_api_url("https:///x"), None);
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Settings::of(None), Settings::default());
        let k = KilnSettings {
            fork_pull_requests: Some("never".into()),
            skip_draft_pull_requests: Some(false),
            skip_ci_markers: None,
            ..KilnSettings::default()
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
