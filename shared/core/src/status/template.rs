//! `buildStatusConfig.context` and `.targetUrl`: `$VAR` / `${VAR}` expansion from the build's
//! environment (spec §7.5, S04, S05) and the default context.
//!
//! Choices [INF]: names are `[A-Za-z_][A-Za-z0-9_]*`; a variable the build does not define is
//! left as written (`$NOPE` stays `$NOPE`) rather than emptied, so a typo shows on GitHub;
//! `$$` is not special. Only the build's environment is consulted (CodeBuild's `CODEBUILD_*`,
//! `AWS_REGION`, and the project's plain variables), never a secret.

/// The context CodeBuild uses when `buildStatusConfig.context` is absent:
/// `AWS CodeBuild <region> (<project>)`.
pub fn default_context(region: &str, project: &str) -> String {
    format!("AWS CodeBuild {region} ({project})")
}

/// `template` with every `$NAME` and `${NAME}` that `lookup` knows replaced by its value.
pub fn expand<'a>(template: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) if is_name(&inner[..end]) => (&inner[..end], end + 2),
                _ => ("", 0),
            }
        } else {
            let end = after
                .char_indices()
                .find(|&(i, c)| {
                    !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
                })
                .map_or(after.len(), |(i, _)| i);
            (&after[..end], end)
        };
        match lookup(name).filter(|_| !name.is_empty()) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[at..at + 1 + consumed]),
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The context and target URL of a build's statuses: the project's `buildStatusConfig`
/// expanded with `env`, or the defaults (`target_url` is `None` when kiln should link its own
/// build page).
pub fn status_target(
    config: Option<&crate::project::BuildStatusConfig>,
    region: &str,
    project: &str,
    env: &[(String, String)],
) -> (String, Option<String>) {
    let lookup = |name: &str| env.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let context = config
        .and_then(|c| c.context.as_deref())
        .filter(|c| !c.is_empty())
        .map_or_else(|| default_context(region, project), |c| expand(c, lookup));
    let target = config
        .and_then(|c| c.target_url.as_deref())
        .filter(|u| !u.is_empty())
        .map(|u| expand(u, lookup));
    (context, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::BuildStatusConfig;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn s04_context_expands_build_number_and_trigger() {
        let cfg = BuildStatusConfig {
            context: Some(
                "AWS CodeBuild sample-project Build #$CODEBUILD_BUILD_NUMBER - $CODEBUILD_WEBHOOK_TRIGGER"
                    .into(),
            ),
            target_url: None,
        };
        let e = env(&[("CODEBUILD_BUILD_NUMBER", "24"), ("CODEBUILD_WEBHOOK_TRIGGER", "pr/8")]);
        let (context, target) = status_target(Some(&cfg), "us-east-1", "proj", &e);
        assert_eq!(context, "AWS CodeBuild sample-project Build #24 - pr/8");
        assert_eq!(target, None);
    }

    #[test]
    fn s05_target_url_expands_region() {
        let cfg = BuildStatusConfig {
            context: None,
            target_url: Some("https://x/b?region=$AWS_REGION".into()),
        };
        let e = env(&[("AWS_REGION", "us-east-2")]);
        let (context, target) = status_target(Some(&cfg), "us-east-2", "proj", &e);
        assert_eq!(target.as_deref(), Some("https://x/b?region=us-east-2"));
        assert_eq!(context, "AWS CodeBuild us-east-2 (proj)");
    }

    #[test]
    fn braces_unknown_names_and_lone_dollars() {
        let e = env(&[("A", "1"), ("AB", "2")]);
        let look = |n: &str| e.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(expand("${A}B $AB $ABC $ ${} $1 x$", look), "1B 2 $ABC $ ${} $1 x$");
        assert_eq!(expand("é$A-é", look), "é1-é");
    }

    #[test]
    fn default_context_is_codebuilds() {
        assert_eq!(
            status_target(None, "us-east-1", "proj", &[]).0,
            "AWS CodeBuild us-east-1 (proj)"
        );
    }
}
