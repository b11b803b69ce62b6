//! Secret masking for a stream: every occurrence of a secret value becomes `***`, also when
//! the value arrives split across two writes.
//!
//! The masker holds back only what could still become a secret: the longest end of the output
//! that is the beginning of some secret value. Output that ends with a newline (most of it) is
//! therefore passed on at once. The caller flushes what is held when the stream pauses (the
//! agent does so after a few milliseconds of silence) or ends; a secret split across such a
//! pause is not masked, which is the price of never holding output back noticeably.
//! Every non-empty value is masked, exactly as written (no transformed forms), as CodeBuild
//! does.

use regex::bytes::Regex;

/// What replaces a secret.
const MASK: &[u8] = b"***";

/// A streaming secret masker.
#[derive(Debug, Clone)]
pub struct Masker {
    secrets: Vec<Vec<u8>>,
    finder: Option<Regex>,
    held: Vec<u8>,
}

impl Masker {
    /// A masker for `secrets` (empty values are ignored).
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut secrets: Vec<Vec<u8>> =
            secrets.into_iter().map(|s| s.as_ref().to_vec()).filter(|s| !s.is_empty()).collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        let finder = if secrets.is_empty() {
            None
        } else {
            let pattern = secrets
                .iter()
                .map(|s| regex::escape(&String::from_utf8_lossy(s)))
                .collect::<Vec<_>>()
                .join("|");
            Regex::new(&pattern).ok()
        };
        Self { secrets, finder, held: Vec::new() }
    }

    /// Whether there is nothing to mask (the caller may pass output through untouched).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Whether some output is held back, waiting to see if it completes a secret.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Masks `data` and appends what can be shown now to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let Some(finder) = &self.finder else {
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
        let mut last = 0;
        for m in finder.find_iter(buf) {
            out.extend_from_slice(&buf[last..m.start()]);
            out.extend_from_slice(MASK);
            last = m.end();
        }
        let rest = &buf[last..];
        let keep = self.partial_suffix(rest);
        out.extend_from_slice(&rest[..rest.len() - keep]);
        self.held = rest[rest.len() - keep..].to_vec();
    }

    /// Appends whatever is held back to `out` (it is not a whole secret).
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.held);
    }

    /// The length of the longest end of `rest` that begins some secret without being all of it.
    fn partial_suffix(&self, rest: &[u8]) -> usize {
        let longest = self.secrets.first().map_or(0, Vec::len).saturating_sub(1).min(rest.len());
        (1..=longest)
            .rev()
            .find(|&k| {
                let tail = &rest[rest.len() - k..];
                self.secrets.iter().any(|s| s.len() > k && s.starts_with(tail))
            })
            .unwrap_or(0)
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

    fn run(secrets: &[&str], writes: &[&str]) -> String {
        let mut m = Masker::new(secrets);
        let mut out = Vec::new();
        for w in writes {
            m.push(w.as_bytes(), &mut out);
        }
        m.flush(&mut out);
        String::from_utf8(out).unwrap_or_default()
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

    proptest! {
        #[test]
        fn never_leaks_whatever_the_split(
            prefix in "[a-z ]{0,20}",
            suffix in "[a-z ]{0,20}",
            secret in "[a-zA-Z0-9]{4,12}",
            cuts in proptest::collection::vec(0usize..60, 0..5),
        ) {
            let text = format!("{prefix}{secret}{suffix}{secret}");
            let mut cuts = cuts.into_iter().map(|c| c.min(text.len())).collect::<Vec<_>>();
            cuts.sort_unstable();
            let mut m = Masker::new([secret.as_str()]);
            let mut out = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([text.len()]) {
                m.push(&text.as_bytes()[at..c], &mut out);
                at = c;
            }
            m.flush(&mut out);
            let shown = String::from_utf8(out).unwrap_or_default();
            prop_assert!(!shown.contains(&secret));
            prop_assert_eq!(shown.matches("***").count() >= 2, true);
        }
    }
}
