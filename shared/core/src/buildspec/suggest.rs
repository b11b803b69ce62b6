//! "Did you mean" suggestions for misspelt keys, values and names (buildspec keys and phases,
//! catalog event types, GitHub event names).

/// The candidate closest to `word`, when it is close enough to be a likely typo.
///
/// Case, `-` and `_` are ignored first (`post-build` → `post_build`), then the edit distance
/// must be at most a third of the word's length (at least 1). Two neighbouring letters swapped
/// count as one edit (optimal string alignment: `biuld` → `build`), as a typing slip is one
/// mistake, not two.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = normalise(word);
    let limit = (norm.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&norm, &normalise(c)), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `did you mean 'x'?` for the closest candidate, if any.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean '{c}'?"))
}

fn normalise(word: &str) -> String {
    word.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_lowercase() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_near_misses_only() {
        let phases = ["install", "pre_build", "build", "post_build"];
        assert_eq!(closest("postbuild", phases), Some("post_build"));
        assert_eq!(closest("post-build", phases), Some("post_build"));
        assert_eq!(closest("Build", phases), Some("build"));
        assert_eq!(closest("set-shell", phases), None);
        assert_eq!(closest("build-tests", phases), None);
        assert_eq!(closest("biuld", phases), Some("build"));
        assert_eq!(closest("pre-build", phases), Some("pre_build"));
        assert_eq!(closest("PostBuild", phases), Some("post_build"));
        assert_eq!(closest("isntall", phases), Some("install"));
        assert_eq!(closest("deploy", phases), None);
    }
}
