//! Lexical clean-up of buildspec paths and of link targets, so nothing selected or restored
//! lies outside the directory it is read from or written to.
//!
//! Choices [INF]:
//! - a leading `/` on an artifact, report or base-directory path is dropped, so the path is
//!   read relative to the source directory (as Go's `filepath.Join`, which CodeBuild's agent
//!   uses, joins it); `kiln validate` warns about it;
//! - `..` removes the literal segment before it (`dist/../out` is `out`); a `..` that would
//!   climb above the root, or that follows a glob segment (`*/..`, whose meaning depends on
//!   what the glob matched), makes the path unusable: it selects nothing, with a log line;
//! - a link target is judged lexically, from the link's own directory: it stays inside when
//!   it is relative and its `..` never climb above the root. Absolute targets never stay
//!   inside, even when they name a place under the root, because the root moves between
//!   builds (and a ZIP is unpacked elsewhere).

use std::path::{Component, Path};

/// Whether a segment has pattern metacharacters (see [`super::Pattern`]).
fn is_glob(segment: &str) -> bool {
    segment.contains(['*', '?', '[', '\\'])
}

/// `text` as a relative path without `.`, `..` or empty segments (see the module docs);
/// `None` when it leads outside the root. The empty string is the root itself.
pub fn clean_relative(text: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for segment in text.split('/') {
        match segment {
            "" | "." => {}
            ".." => match out.pop() {
                Some(last) if !is_glob(last) => {}
                _ => return None,
            },
            other => out.push(other),
        }
    }
    Some(out.join("/"))
}

/// Whether the link at `link` (relative to the root, `/`-separated) with `target` stays
/// inside the root, judged lexically (see the module docs).
pub fn link_stays_inside(link: &str, target: &Path) -> bool {
    let mut depth = link.split('/').filter(|s| !s.is_empty()).count().saturating_sub(1);
    for component in target.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("dist/**/*", Some("dist/**/*"); "plain")]
    #[test_case("./dist//a/", Some("dist/a"); "dots and slashes")]
    #[test_case("/dist/a", Some("dist/a"); "absolute is relative")]
    #[test_case("dist/../out/*", Some("out/*"); "dot dot after a literal")]
    #[test_case("a/..", Some(""); "back to the root")]
    #[test_case("../state/restore.sh", None; "leading dot dot")]
    #[test_case("dist/../../x", None; "climbs above the root")]
    #[test_case("/../etc/passwd", None; "absolute climbing")]
    #[test_case("*/../x", None; "after a glob")]
    #[test_case("**/../x", None; "after a double star")]
    fn cleaning(text: &str, expected: Option<&str>) {
        assert_eq!(clean_relative(text).as_deref(), expected, "{text}");
    }

    #[test_case("a", "b", true; "a sibling")]
    #[test_case("nm/.bin/cli", "../pkg/cli.js", true; "node_modules bin")]
    #[test_case("a", "../x", false; "above the root")]
    #[test_case("d/up", "../..", false; "two up from one deep")]
    #[test_case("d/e/up", "../../x/../y", true; "down and up inside")]
    #[test_case("a", "/etc/passwd", false; "absolute")]
    #[test_case("a", ".", true; "the root itself")]
    fn links(link: &str, target: &str, expected: bool) {
        assert_eq!(link_stays_inside(link, Path::new(target)), expected, "{link} -> {target}");
    }

    proptest::proptest! {
        #[test]
        fn a_cleaned_path_never_climbs(text in "(\\.\\.|\\.|[a-z*]{1,3}|)(/(\\.\\.|\\.|[a-z*]{1,3}|)){0,6}") {
            if let Some(clean) = clean_relative(&text) {
                proptest::prop_assert!(!clean.split('/').any(|s| s == ".." || s == "."));
                proptest::prop_assert!(!clean.starts_with('/'));
            }
        }
    }
}
