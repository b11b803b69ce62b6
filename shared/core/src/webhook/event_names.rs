//! The `X-GitHub-Event` names GitHub sends, for telling a typo (`pushh`) from a real event
//! that kiln ignores (`issue_comment`).
//!
//! Only a user who names an event by hand (`kiln resolve --event-name`) is checked against
//! this list; a delivery from GitHub with a name missing here is still answered as ignored,
//! never refused (GitHub adds events from time to time).

use crate::buildspec::suggest::closest;

/// Every webhook event GitHub sends (github.com, GitHub Enterprise Cloud and Server), from
/// the `x-webhooks` of GitHub's OpenAPI descriptions (`@octokit/openapi`, api.github.com,
/// ghec and ghes-3.17 to 3.19), with the `-` of a few documentation names written `_` as the
/// header spells them; sorted.
pub const GITHUB_EVENTS: &[&str] = &[
    "branch_protection_configuration",
    "branch_protection_rule",
    "bypass_request_secret_scanning",
    "cache_sync",
    "check_run",
    "check_suite",
    "code_scanning_alert",
    "commit_comment",
    "create",
    "custom_property",
    "custom_property_values",
    "delete",
    "dependabot_alert",
    "deploy_key",
    "deployment",
    "deployment_protection_rule",
    "deployment_review",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "dismissal_request_code_scanning",
    "dismissal_request_dependabot",
    "dismissal_request_secret_scanning",
    "enterprise",
    "exemption_request_push_ruleset",
    "fork",
    "github_app_authorization",
    "gollum",
    "installation",
    "installation_repositories",
    "installation_target",
    "issue_comment",
    "issue_dependencies",
    "issues",
    "label",
    "marketplace_purchase",
    "member",
    "membership",
    "merge_group",
    "meta",
    "milestone",
    "org_block",
    "organization",
    "organization_custom_property",
    "organization_custom_property_values",
    "package",
    "page_build",
    "personal_access_token_request",
    "ping",
    "project",
    "project_card",
    "project_column",
    "projects_v2",
    "projects_v2_item",
    "projects_v2_status_update",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "push",
    "registry_package",
    "release",
    "repository",
    "repository_advisory",
    "repository_dispatch",
    "repository_import",
    "repository_ruleset",
    "repository_vulnerability_alert",
    "secret_scanning_alert",
    "secret_scanning_alert_location",
    "secret_scanning_scan",
    "security_advisory",
    "security_and_analysis",
    "sponsorship",
    "star",
    "status",
    "sub_issues",
    "team",
    "team_add",
    "user",
    "watch",
    "workflow_dispatch",
    "workflow_job",
    "workflow_run",
];

/// An event name GitHub never sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not an event GitHub sends{}", suggestion.as_ref().map_or_else(String::new, |s| format!("; did you mean {s}?")))]
pub struct UnknownEventName {
    /// The name as given.
    pub name: String,
    /// The closest event GitHub sends, when one is close.
    pub suggestion: Option<&'static str>,
}

/// Whether GitHub sends events called `name` (compared exactly: GitHub's names are lower case).
///
/// # Errors
/// [`UnknownEventName`], with the closest real name (`pushh` → `push`, `PullRequest` →
/// `pull_request`).
pub fn check_event_name(name: &str) -> Result<(), UnknownEventName> {
    if GITHUB_EVENTS.binary_search(&name).is_ok() {
        return Ok(());
    }
    Err(UnknownEventName {
        name: name.to_owned(),
        suggestion: closest(name, GITHUB_EVENTS.iter().copied()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_for_binary_search() {
        assert!(GITHUB_EVENTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn real_events_pass_typos_get_the_closest_name() {
        for name in ["push", "pull_request", "issue_comment", "create", "ping", "workflow_job"] {
            assert_eq!(check_event_name(name), Ok(()), "{name}");
        }
        let typo = check_event_name("pushh").expect_err("a typo");
        assert_eq!(typo.to_string(), "\"pushh\" is not an event GitHub sends; did you mean push?");
        let suggestion = |n: &str| check_event_name(n).err().and_then(|e| e.suggestion);
        assert_eq!(suggestion("PUSH"), Some("push"));
        assert_eq!(suggestion("pull-request"), Some("pull_request"));
        assert_eq!(suggestion("PullRequest"), Some("pull_request"));
        assert_eq!(suggestion("relase"), Some("release"));
        let far = check_event_name("build").expect_err("not an event");
        assert_eq!(far.to_string(), "\"build\" is not an event GitHub sends");
    }
}
