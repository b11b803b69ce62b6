//! Path patterns with CodeBuild's semantics: `*` within one segment, `**` across segments.
//!
//! - `*` matches any run of characters inside one path segment, dotfiles included, as Go's
//!   `filepath.Match` does (CodeBuild's agent is written in Go) [INF];
//! - `?` matches one character, `[abc]`, `[a-z]` and `[^a]`/`[!a]` one character of a class,
//!   `\x` the character `x`;
//! - a whole segment `**` matches zero or more segments, so `**/*` matches every file
//!   including those at the top level; `**` inside a longer segment acts as `*`;
//! - `./` prefixes, repeated and trailing `/` are ignored;
//! - a pattern without metacharacters names one path, and [`Pattern::selects`] every path
//!   under it too (a bare directory name selects its whole tree [INF]).
//!
//! Patterns are matched against paths the agent listed, which never hold `.` or `..`
//! segments; a buildspec path is cleaned with [`super::clean_relative`] before it gets here.

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of segments.
    AnyDepth,
    /// A segment without metacharacters.
    Literal(String),
    /// A segment with `*`, `?`, `[...]` or escapes.
    Glob(Vec<char>),
}

/// A compiled path pattern, matched against `/`-separated relative paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segments: Vec<Segment>,
    /// The leading literal segments joined with `/`.
    prefix: String,
}

impl Pattern {
    /// Compiles `text`. Every text is a pattern; a malformed class matches literally.
    pub fn new(text: &str) -> Self {
        let segments = text
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(|s| {
                if s == "**" {
                    Segment::AnyDepth
                } else if s.contains(['*', '?', '[', '\\']) {
                    Segment::Glob(s.chars().collect())
                } else {
                    Segment::Literal(s.to_owned())
                }
            })
            .collect::<Vec<_>>();
        let prefix = segments
            .iter()
            .map_while(|s| match s {
                Segment::Literal(l) => Some(l.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        Self { text: text.to_owned(), segments, prefix }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has no metacharacter at all: it names one path.
    pub fn is_literal(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Literal(_)))
    }

    /// The leading segments without metacharacters, joined with `/` (`src/main` for
    /// `src/main/**/*.java`): the directory a walk can start from.
    pub fn literal_prefix(&self) -> &str {
        &self.prefix
    }

    /// How many segments the pattern has.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// Whether the relative path `path` (`/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match_segments(&self.segments, &parts)
    }

    /// Whether the path made of `parts` matches.
    pub fn matches_parts(&self, parts: &[&str]) -> bool {
        match_segments(&self.segments, parts)
    }

    /// Whether the pattern selects `path`: it matches it, or the pattern is literal and names
    /// `path` or a directory `path` lies in (every path, for a pattern with no segment).
    pub fn selects(&self, path: &str) -> bool {
        if self.is_literal() {
            return self.prefix.is_empty()
                || path
                    .strip_prefix(self.prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        }
        self.matches(path)
    }

    /// Whether the pattern may select some path strictly under the directory made of `parts`,
    /// so a walk must look inside it.
    pub fn may_select_under(&self, parts: &[&str]) -> bool {
        if self.is_literal() {
            let literal = self.segments.len().min(parts.len());
            return self.segments[..literal]
                .iter()
                .zip(parts)
                .all(|(s, p)| matches!(s, Segment::Literal(l) if l == p));
        }
        prefix_may_match(&self.segments, parts)
    }
}

/// Whether some path that continues `dir` with at least one more segment can match `pattern`.
fn prefix_may_match(pattern: &[Segment], dir: &[&str]) -> bool {
    match (pattern.split_first(), dir.split_first()) {
        (Some((Segment::AnyDepth, _)), _) => true,
        (Some(_), None) => true,
        (None, _) => false,
        (Some((seg, rest)), Some((first, tail))) => {
            match_one(seg, first) && prefix_may_match(rest, tail)
        }
    }
}

fn match_segments(pattern: &[Segment], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((Segment::AnyDepth, rest)) => {
            (0..=path.len()).any(|skip| match_segments(rest, &path[skip..]))
        }
        Some((seg, rest)) => match path.split_first() {
            None => false,
            Some((first, tail)) => match_one(seg, first) && match_segments(rest, tail),
        },
    }
}

fn match_one(segment: &Segment, name: &str) -> bool {
    match segment {
        Segment::AnyDepth => true,
        Segment::Literal(l) => l == name,
        Segment::Glob(p) => {
            let n: Vec<char> = name.chars().collect();
            glob_chars(p, &n)
        }
    }
}

/// Matches one segment glob against one name (iterative with backtracking on the last `*`).
fn glob_chars(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            while pi < p.len() && p[pi] == '*' {
                pi += 1;
            }
            star = Some((pi, ni));
            continue;
        }
        if pi < p.len()
            && let Some((ok, len)) = match_single(&p[pi..], n[ni])
            && ok
        {
            pi += len;
            ni += 1;
            continue;
        }
        match star {
            Some((sp, sn)) => {
                pi = sp;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Matches the single-character token at the start of `p` against `c`: `(matched, token length)`.
fn match_single(p: &[char], c: char) -> Option<(bool, usize)> {
    match p.first()? {
        '?' => Some((true, 1)),
        '\\' => match p.get(1) {
            Some(e) => Some((*e == c, 2)),
            None => Some((c == '\\', 1)),
        },
        '[' => match class(p, c) {
            Some(r) => Some(r),
            None => Some((c == '[', 1)),
        },
        other => Some((*other == c, 1)),
    }
}

/// A `[...]` class: `None` when unterminated (then `[` is literal).
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('^' | '!'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((found != negate, i + 1));
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|e| *e != ']') {
            let hi = *p.get(i + 2)?;
            if lo <= c && c <= hi {
                found = true;
            }
            i += 3;
        } else {
            if lo == c {
                found = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("**/*", "a", true; "double star matches top level")]
    #[test_case("**/*", "a/b/c.txt", true; "double star matches deep")]
    #[test_case("dir/*", "dir/a", true; "star in dir")]
    #[test_case("dir/*", "dir/sub/a", false; "star does not cross slash")]
    #[test_case("dir/**/*", "dir/sub/a", true; "dir double star deep")]
    #[test_case("dir/**/*", "other/a", false; "dir double star other dir")]
    #[test_case("*", ".hidden", true; "star matches dotfiles")]
    #[test_case("*.js", "a.js.map", false; "suffix anchored")]
    #[test_case("**/*.map", "x/y/a.js.map", true; "suffix deep")]
    #[test_case("*/my-file-3.txt", "my-subdirectory/my-file-3.txt", true; "star segment")]
    #[test_case("*/my-file-3.txt", "a/b/my-file-3.txt", false; "star one segment only")]
    #[test_case("./target/app.jar", "target/app.jar", true; "dot slash prefix")]
    #[test_case("a?c", "abc", true; "question mark")]
    #[test_case("[a-c]x", "bx", true; "class range")]
    #[test_case("[!a-c]x", "bx", false; "negated class")]
    #[test_case("\\*", "*", true; "escaped star")]
    #[test_case("a*b*c", "axxbyyc", true; "backtracking")]
    #[test_case("a*b*c", "axxbyy", false; "backtracking fails")]
    #[test_case("**", "a/b", true; "bare double star")]
    #[test_case("a/**", "a", true; "trailing double star matches zero segments")]
    #[test_case("my-build*", "my-build-2", true; "prefix glob")]
    fn matching(pattern: &str, path: &str, expected: bool) {
        assert_eq!(Pattern::new(pattern).matches(path), expected, "{pattern} vs {path}");
    }

    #[test_case("out", "out", true; "a literal names itself")]
    #[test_case("out", "out/x/y", true; "and its tree")]
    #[test_case("out", "outer", false; "but not a longer name")]
    #[test_case("", "any/thing", true; "the empty pattern selects everything")]
    #[test_case("out/*", "out/x/y", false; "a glob only matches")]
    fn selecting(pattern: &str, path: &str, expected: bool) {
        assert_eq!(Pattern::new(pattern).selects(path), expected, "{pattern} vs {path}");
    }

    #[test_case("**/*", "", true; "double star everywhere")]
    #[test_case("**/*", "a/b", true; "double star deep")]
    #[test_case("sub/*", "sub", true; "into the literal prefix")]
    #[test_case("sub/*", "sub/deep", false; "not below a single star")]
    #[test_case("sub/*", "other", false; "not elsewhere")]
    #[test_case("*/x.txt", "any", true; "a star segment")]
    #[test_case("out", "out/x", true; "inside a literal directory")]
    #[test_case("out/a", "out", true; "on the way to a literal path")]
    #[test_case("out/a", "other", false; "not off the literal path")]
    #[test_case("out/**/*.js", "out/a/b", true; "under double star")]
    fn walking(pattern: &str, dir: &str, expected: bool) {
        let parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        assert_eq!(Pattern::new(pattern).may_select_under(&parts), expected, "{pattern} in {dir}");
    }

    #[test]
    fn literal_prefix_stops_at_the_first_glob() {
        assert_eq!(Pattern::new("src/main/**/*.java").literal_prefix(), "src/main");
        assert_eq!(Pattern::new("**/*").literal_prefix(), "");
        assert!(Pattern::new("target/app.jar").is_literal());
        assert!(!Pattern::new("target/*.jar").is_literal());
    }

    proptest::proptest! {
        #[test]
        fn a_literal_path_matches_itself(path in "[a-z.]{1,8}(/[a-z.]{1,8}){0,3}") {
            let clean: Vec<&str> = path.split('/').filter(|s| *s != ".").collect();
            proptest::prop_assume!(!clean.is_empty() && clean.iter().all(|s| !s.is_empty()));
            let clean = clean.join("/");
            proptest::prop_assert!(Pattern::new(&clean).matches(&clean));
            proptest::prop_assert!(Pattern::new("**/*").matches(&clean));
        }

        #[test]
        fn star_never_crosses_a_slash(a in "[a-z]{1,6}", b in "[a-z]{1,6}") {
            let path = format!("{a}/{b}");
            proptest::prop_assert!(!Pattern::new("*").matches(&path));
        }
    }
}
