//! Secret masking for a stream: every occurrence of a secret value becomes `***`, also when
//! the value arrives split across two writes.
//!
//! Matching is Aho-Corasick, leftmost-longest (a secret that contains another is masked
//! whole), over bytes: any number of secrets of any size and content is masked, and building
//! the masker cannot fail. Should the automaton ever refuse the secrets (more than the crate
//! can number, gigabytes of them), a plain search for each secret takes its place: slower,
//! never open.
//!
//! The masker holds back only what could still become a secret: the longest end of the output
//! that is the beginning of some secret value (an automaton over the secrets' prefixes finds
//! it in time linear in the bytes scanned). Output that ends with a newline (most of it) is
//! therefore passed on at once. A match is shown masked only once no longer secret starting at
//! or before it can still complete. The caller flushes what is held when the stream pauses
//! (the agent does so after a little silence) or ends; a secret split across such a pause is
//! not masked, which is the price of never holding output back noticeably. Every non-empty
//! value is masked, exactly as written (no transformed forms), as CodeBuild does.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

use super::prefixes::Prefixes;

/// Up to this many bytes of secrets, the automaton may be a DFA (the fastest search, with a
/// transition table per state); past it, a contiguous NFA (compact: a few bytes per state),
/// since a DFA of many kilobytes of secrets takes seconds to build and memory to match.
const DFA_BYTES: usize = 16 << 10;

/// What replaces a secret.
const MASK: &[u8] = b"***";

/// A streaming secret masker.
#[derive(Debug, Clone)]
pub struct Masker {
    secrets: Option<Arc<Secrets>>,
    held: Vec<u8>,
}

/// The length of the heads searched for to find where a held-back end may start.
const HEAD: usize = 8;

/// The compiled secrets, shared by clones of a masker.
#[derive(Debug)]
struct Secrets {
    finder: Finder,
    prefixes: Option<Prefixes>,
    /// Present when some secret is long enough for scanning the whole window byte by byte
    /// to cost more than searching for heads.
    heads: Option<Heads>,
    values: Vec<Vec<u8>>,
    longest: usize,
}

/// The first [`HEAD`] bytes of every longer secret, each with the secrets it starts.
#[derive(Debug)]
struct Heads {
    search: AhoCorasick,
    /// For each head (by pattern id), the indices of its secrets in `values`.
    secrets: Vec<Vec<usize>>,
}

impl Heads {
    fn new(values: &[Vec<u8>]) -> Option<Self> {
        let mut heads: Vec<&[u8]> = Vec::new();
        let mut secrets: Vec<Vec<usize>> = Vec::new();
        for (i, v) in values.iter().enumerate().filter(|(_, v)| v.len() > HEAD) {
            // `values` is sorted, so the secrets of one head are together.
            if heads.last() != Some(&&v[..HEAD]) {
                heads.push(&v[..HEAD]);
                secrets.push(Vec::new());
            }
            secrets.last_mut()?.push(i);
        }
        // Leftmost-first (all heads have one length: the earliest one found) allows the
        // vectorised prefilter, which the standard semantics would not.
        let search =
            AhoCorasick::builder().match_kind(MatchKind::LeftmostFirst).build(heads).ok()?;
        Some(Self { search, secrets })
    }
}

#[derive(Debug)]
enum Finder {
    Automaton(AhoCorasick),
    /// Each secret searched for in turn, for secrets the automaton cannot hold.
    Plain(Vec<memchr::memmem::Finder<'static>>),
}

impl Finder {
    fn new(values: &[Vec<u8>]) -> Self {
        let total: usize = values.iter().map(Vec::len).sum();
        let kind = (total > DFA_BYTES).then_some(AhoCorasickKind::ContiguousNFA);
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(kind)
            .build(values)
            .map_or_else(|_| Self::plain(values), Self::Automaton)
    }

    fn plain(values: &[Vec<u8>]) -> Self {
        Self::Plain(values.iter().map(|v| memchr::memmem::Finder::new(v).into_owned()).collect())
    }

    /// The leftmost-longest secret in `haystack[at..]`, as a range of `haystack`.
    fn find(&self, haystack: &[u8], at: usize) -> Option<(usize, usize)> {
        match self {
            Self::Automaton(ac) => {
                ac.find(Input::new(haystack).span(at..haystack.len())).map(|m| (m.start(), m.end()))
            }
            Self::Plain(finders) => finders
                .iter()
                .filter_map(|f| {
                    f.find(&haystack[at..]).map(|i| (at + i, at + i + f.needle().len()))
                })
                .min_by_key(|&(start, end)| (start, std::cmp::Reverse(end))),
        }
    }
}

impl Masker {
    /// A masker for `secrets` (empty values are ignored).
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let values = Self::values(secrets);
        if values.is_empty() {
            return Self { secrets: None, held: Vec::new() };
        }
        let finder = Finder::new(&values);
        Self::with(values, finder)
    }

    fn values<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Vec<Vec<u8>> {
        let mut values: Vec<Vec<u8>> =
            secrets.into_iter().map(|s| s.as_ref().to_vec()).filter(|s| !s.is_empty()).collect();
        values.sort_unstable();
        values.dedup();
        values
    }

    fn with(values: Vec<Vec<u8>>, finder: Finder) -> Self {
        let longest = values.iter().map(Vec::len).max().unwrap_or(0);
        let prefixes = Prefixes::new(&values);
        let heads = if longest > 8 * HEAD { Heads::new(&values) } else { None };
        let secrets = Secrets { finder, prefixes, heads, values, longest };
        Self { secrets: Some(Arc::new(secrets)), held: Vec::new() }
    }

    /// Whether there is nothing to mask (the caller may pass output through untouched).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_none()
    }

    /// Whether some output is held back, waiting to see if it completes a secret.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Masks `data` and appends what can be shown now to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let Some(secrets) = &self.secrets else {
            out.extend_from_slice(data);
            return;
        };
        let joined;
        let buf: &[u8] = if self.held.is_empty() {
            data
        } else {
            let mut b = std::mem::take(&mut self.held);
            b.extend_from_slice(data);
            joined = b;
            &joined
        };
        let held = secrets.mask(buf, false, out);
        self.held = buf[held..].to_vec();
    }

    /// Appends whatever is held back to `out`, masked (it may hold whole secrets that a longer
    /// one could have continued).
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        let held = std::mem::take(&mut self.held);
        match &self.secrets {
            Some(secrets) => {
                secrets.mask(&held, true, out);
            }
            None => out.extend_from_slice(&held),
        }
    }
}

impl Secrets {
    /// Appends `buf` masked to `out`, up to the end that could still become a secret (all of
    /// it when `at_end`); returns where that end starts.
    fn mask(&self, buf: &[u8], at_end: bool, out: &mut Vec<u8>) -> usize {
        let mut pending = if at_end { buf.len() } else { self.pending(buf) };
        let mut at = 0;
        while let Some((start, end)) = self.finder.find(buf, at).filter(|&(s, _)| s < pending) {
            out.extend_from_slice(&buf[at..start]);
            out.extend_from_slice(MASK);
            at = end;
            if at > pending {
                // The match ate into the held-back end: what may still become a secret now
                // starts after it.
                pending = at + self.pending(&buf[at..]);
            }
        }
        out.extend_from_slice(&buf[at..pending]);
        pending
    }

    /// Where the longest end of `buf` that is a proper prefix of some secret starts.
    ///
    /// An end of [`HEAD`] bytes or more starts with the head of a longer secret: the heads
    /// are searched for (a fast, vectorised search), and at each one found the rest of `buf`
    /// is compared with the secrets of that head, first to last; the first that starts one is
    /// the longest. Shorter ends lie in the last bytes, scanned by the prefix automaton.
    /// Should the heads keep almost matching (repetitive output), a work budget hands over to
    /// scanning the whole window with the automaton, which is linear.
    fn pending(&self, buf: &[u8]) -> usize {
        let window = buf.len().saturating_sub(self.longest.saturating_sub(1));
        let Some(p) = &self.prefixes else { return self.pending_naive(buf, window) };
        let scan = |from: usize| buf.len() - p.pending(p.scan(&buf[from..]), buf.len() - from);
        let Some(heads) = &self.heads else { return scan(window) };
        let mut budget = 2 * (buf.len() - window) + 4096;
        let mut from = window;
        while let Some(m) = heads.search.find(Input::new(buf).span(from..buf.len())) {
            let rest = &buf[m.start()..];
            for &i in &heads.secrets[m.pattern().as_usize()] {
                let Some(left) = budget.checked_sub(rest.len()) else { return scan(window) };
                budget = left;
                let secret = &self.values[i];
                if secret.len() > rest.len() && secret.starts_with(rest) {
                    return m.start();
                }
            }
            from = m.start() + 1;
        }
        scan(window.max(buf.len().saturating_sub(HEAD - 1)))
    }

    /// [`Secrets::pending`] of `buf[at..]` by comparing every end with every secret, for
    /// secrets too many for the prefix automaton.
    fn pending_naive(&self, buf: &[u8], at: usize) -> usize {
        let rest = &buf[at..];
        let longest = self.longest.saturating_sub(1).min(rest.len());
        let keep = (1..=longest)
            .rev()
            .find(|&k| {
                let tail = &rest[rest.len() - k..];
                self.values.iter().any(|s| s.len() > k && s.starts_with(tail))
            })
            .unwrap_or(0);
        buf.len() - keep
    }
}

/// Masks a whole text at once.
pub fn mask_all(masker: &Masker, text: &str) -> String {
    let mut m = Masker { held: Vec::new(), ..masker.clone() };
    let mut out = Vec::with_capacity(text.len());
    m.push(text.as_bytes(), &mut out);
    m.flush(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run_with(mut m: Masker, writes: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in writes {
            m.push(w, &mut out);
        }
        m.flush(&mut out);
        out
    }

    fn run(secrets: &[&str], writes: &[&str]) -> String {
        let writes: Vec<&[u8]> = writes.iter().map(|w| w.as_bytes()).collect();
        String::from_utf8(run_with(Masker::new(secrets), &writes)).unwrap_or_default()
    }

    /// The same secrets through the fallback search, to test that path too.
    fn plain(secrets: &[&[u8]]) -> Masker {
        let values = Masker::values(secrets);
        let finder = Finder::plain(&values);
        Masker::with(values, finder)
    }

    #[test]
    fn whole_inside_and_split() {
        assert_eq!(run(&["hunter2"], &["hunter2\n"]), "***\n");
        assert_eq!(
            run(&["hunter2"], &["the password is hunter2, ok\n"]),
            "the password is ***, ok\n"
        );
        assert_eq!(run(&["hunter2"], &["pass: hun", "ter2 done\n"]), "pass: *** done\n");
        assert_eq!(run(&["hunter2"], &["h", "u", "n", "t", "e", "r", "2"]), "***");
        assert_eq!(run(&["abc", "abcdef"], &["xabcdefx abc\n"]), "x***x ***\n");
        assert_eq!(run(&[], &["plain"]), "plain");
    }

    #[test]
    fn a_secret_inside_a_longer_one_waits_for_the_longer_one() {
        assert_eq!(run(&["abc", "abcdef"], &["xabcd", "ef\n"]), "x***\n");
        assert_eq!(run(&["abc", "abcdef"], &["xabcd", "eg\n"]), "x***deg\n");
        assert_eq!(run(&["abc", "abcdef"], &["xabc"]), "x***");
        let mut m = Masker::new(["abc", "abcdef"]);
        let mut out = Vec::new();
        m.push(b"xabcd", &mut out);
        assert_eq!(out, b"x");
        m.flush(&mut out);
        assert_eq!(out, b"x***d");
    }

    #[test]
    fn holds_only_a_possible_start() {
        let mut m = Masker::new(["secret"]);
        let mut out = Vec::new();
        m.push(b"line one\n", &mut out);
        assert!(!m.is_holding());
        m.push(b"almost sec", &mut out);
        assert!(m.is_holding());
        assert_eq!(out, b"line one\nalmost ");
        m.push(b"ond\n", &mut out);
        assert_eq!(out, b"line one\nalmost second\n");
        assert_eq!(mask_all(&m, "a secret b"), "a *** b");
    }

    #[test]
    fn secrets_that_are_not_utf8_are_masked() {
        let secret: &[u8] = b"\xff\xfe-key";
        let out = run_with(Masker::new([secret]), &[b"a \xff", b"\xfe-key b\n"]);
        assert_eq!(out, b"a *** b\n");
    }

    /// A pseudo-random byte generator, so large inputs need no dependency.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b'!' + (x % 90) as u8
            })
            .collect()
    }

    #[test]
    fn many_large_secrets_are_all_masked() {
        // 40 secrets of 20 to 80 KB: the regex this masker replaced gave up on far fewer and
        // then printed every secret in clear.
        let secrets: Vec<Vec<u8>> =
            (0..40).map(|i| bytes(i, 20_000 + (i as usize * 1_500) % 60_000)).collect();
        let masker = Masker::new(&secrets);
        let mut text = Vec::new();
        for (i, s) in secrets.iter().enumerate() {
            text.extend_from_slice(format!("secret {i}: ").as_bytes());
            text.extend_from_slice(s);
            text.push(b'\n');
        }
        for chunk in [1 << 16, 4093, 65_537] {
            let writes: Vec<&[u8]> = text.chunks(chunk).collect();
            let out = String::from_utf8_lossy(&run_with(masker.clone(), &writes)).into_owned();
            let expected: String = (0..40).map(|i| format!("secret {i}: ***\n")).collect();
            let clear = secrets.iter().filter(|s| out.contains(&*String::from_utf8_lossy(s)));
            let clear = clear.count();
            assert!(out == expected, "chunks of {chunk}: {clear} of 40 secrets shown in clear");
        }
    }

    #[test]
    fn the_fallback_search_masks_the_same() {
        let m = plain(&[b"abc", b"abcdef", b"hunter2"]);
        let out = run_with(m, &[b"xabcd", b"ef abc hun", b"ter2 abcdeg\n"]);
        assert_eq!(out, b"x*** *** *** ***deg\n");
    }

    fn split_run(m: Masker, text: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| (*c).min(text.len())).collect();
        cuts.sort_unstable();
        let mut writes = Vec::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([text.len()]) {
            writes.push(&text[at..c]);
            at = c;
        }
        run_with(m, &writes)
    }

    /// Leftmost-longest masking of a whole text, the plain way: the definition the streaming
    /// masker must agree with.
    fn reference(secrets: &[Vec<u8>], text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let longest = secrets
                .iter()
                .filter(|s| !s.is_empty() && text[at..].starts_with(s))
                .map(Vec::len)
                .max();
            match longest {
                Some(n) => {
                    out.extend_from_slice(MASK);
                    at += n;
                }
                None => {
                    out.push(text[at]);
                    at += 1;
                }
            }
        }
        out
    }

    #[test]
    fn repetitive_output_near_a_long_secret_is_masked_exactly() {
        let secret = [vec![b'a'; 100], vec![b'b']].concat();
        let secrets = vec![
            secret.clone(),
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab".to_vec(),
        ];
        let text =
            [vec![b'a'; 10_000], secret.clone(), vec![b'a'; 5_000], b"b\n".to_vec()].concat();
        let expected = reference(&secrets, &text);
        for chunk in [1, 7, 100, 4096, text.len()] {
            let writes: Vec<&[u8]> = text.chunks(chunk).collect();
            assert_eq!(run_with(Masker::new(&secrets), &writes), expected, "chunks of {chunk}");
        }
    }

    proptest! {
        #[test]
        fn long_secrets_mask_as_the_definition_says(
            secrets in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(b"ab".to_vec()), 60..90), 1..4),
            pieces in proptest::collection::vec((0usize..4, 0usize..90, 0usize..90, "[abc]{0,30}"), 0..6),
            cuts in proptest::collection::vec(0usize..600, 0..8),
        ) {
            let mut text = Vec::new();
            for (which, from, to, noise) in &pieces {
                let s = &secrets[which % secrets.len()];
                let (from, to) = ((*from).min(s.len()), (*to).min(s.len()));
                text.extend_from_slice(&s[from.min(to)..to.max(from)]);
                text.extend_from_slice(noise.as_bytes());
                if which % 2 == 0 {
                    text.extend_from_slice(s);
                }
            }
            let expected = reference(&secrets, &text);
            prop_assert_eq!(split_run(Masker::new(&secrets), &text, &cuts), expected);
        }

        #[test]
        fn never_leaks_whatever_the_split(
            prefix in "[a-z ]{0,20}",
            suffix in "[a-z ]{0,20}",
            secret in "[a-zA-Z0-9]{4,12}",
            cuts in proptest::collection::vec(0usize..60, 0..5),
        ) {
            let text = format!("{prefix}{secret}{suffix}{secret}");
            let shown = split_run(Masker::new([secret.as_str()]), text.as_bytes(), &cuts);
            let shown = String::from_utf8(shown).unwrap_or_default();
            prop_assert!(!shown.contains(&secret));
            prop_assert_eq!(shown.matches("***").count() >= 2, true);
        }

        #[test]
        fn any_split_masks_as_one_write_does(
            secrets in proptest::collection::vec("[ab]{1,5}", 1..5),
            text in "[abc\n]{0,40}",
            cuts in proptest::collection::vec(0usize..45, 0..6),
        ) {
            let whole = run_with(Masker::new(&secrets), &[text.as_bytes()]);
            let values: Vec<Vec<u8>> = secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
            prop_assert_eq!(&whole, &reference(&values, text.as_bytes()));
            let split = split_run(Masker::new(&secrets), text.as_bytes(), &cuts);
            prop_assert_eq!(&split, &whole);
            let refs: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
            let fallback = split_run(plain(&refs), text.as_bytes(), &cuts);
            prop_assert_eq!(&fallback, &whole);
            let shown = String::from_utf8(whole).unwrap_or_default();
            for s in &secrets {
                prop_assert!(!shown.replace("***", "\n").contains(s.as_str()), "{s} in {shown:?}");
            }
        }
    }
}
