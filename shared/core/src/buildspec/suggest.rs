//! "Did you mean" suggestions for misspelt keys and values.

/// The candidate closest to `word`, when it is close enough to be a likely typo.
///
/// Case, `-` and `_` are ignored first (`post-build` → `post_build`), then the Levenshtein
/// distance must be at most a third of the word's length (at least 1).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = normalise(word);
    let limit = (norm.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&norm, &normalise(c)), c))
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
    }
}
