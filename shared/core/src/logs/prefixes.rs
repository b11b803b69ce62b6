//! The prefixes of the secrets as an automaton: how much of a stream's end could still become
//! a secret, in time linear in what is scanned, whatever the number and size of secrets.
//!
//! The trie of the secrets is stored breadth first, each level in byte order, so that the
//! children of a node are consecutive and each node needs only its byte, its first child and
//! its failure link (9 bytes). The failure links are Aho-Corasick's: scanning a text leaves
//! the automaton at the longest end of the text that is a prefix of some secret.

/// A node of the trie, by its index in breadth-first order; 0 is the root.
pub(super) type State = u32;

const ROOT: State = 0;

/// The trie of a set of secrets with failure links.
#[derive(Debug)]
pub(super) struct Prefixes {
    /// The byte leading into each node (unused for the root).
    byte: Vec<u8>,
    /// Where each node's children start; `first_child[v + 1]` is where they end.
    first_child: Vec<State>,
    /// The longest proper suffix of each node that is also a node.
    fail: Vec<State>,
    /// The first node of each depth: depth `d` holds `level_start[d]..level_start[d + 1]`.
    level_start: Vec<State>,
    /// The root's transition for every byte, the one step taken most often.
    from_root: Box<[State; 256]>,
}

impl Prefixes {
    /// The automaton of `secrets`, which must be sorted, without repeats, none empty.
    ///
    /// `None` when the trie would have more nodes than a [`State`] can number (4 GiB of
    /// secrets).
    pub fn new(secrets: &[Vec<u8>]) -> Option<Self> {
        let mut p = Self {
            byte: vec![0],
            first_child: Vec::new(),
            fail: vec![ROOT],
            level_start: vec![0, 1],
            from_root: Box::new([ROOT; 256]),
        };
        // Each node of the level being expanded: the range of secrets sharing its prefix.
        let mut level: Vec<(usize, usize)> = vec![(0, secrets.len())];
        let mut depth = 0usize;
        while !level.is_empty() {
            let mut next = Vec::new();
            for &(lo, hi) in &level {
                p.first_child.push(State::try_from(p.byte.len() + next.len()).ok()?);
                let mut i = lo;
                while i < hi {
                    let Some(&b) = secrets[i].get(depth) else {
                        i += 1;
                        continue;
                    };
                    let start = i;
                    while i < hi && secrets[i].get(depth) == Some(&b) {
                        i += 1;
                    }
                    next.push((start, i, b));
                }
            }
            p.byte.extend(next.iter().map(|&(_, _, b)| b));
            if !next.is_empty() {
                p.level_start.push(State::try_from(p.byte.len()).ok()?);
            }
            level = next.iter().map(|&(lo, hi, _)| (lo, hi)).collect();
            depth += 1;
        }
        p.first_child.push(State::try_from(p.byte.len()).ok()?);
        p.link();
        Some(p)
    }

    /// Sets the failure links, level by level, and the root's transitions.
    fn link(&mut self) {
        let n = self.byte.len();
        self.fail = vec![ROOT; n];
        for child in self.children(ROOT) {
            self.from_root[usize::from(self.byte[child as usize])] = child;
        }
        for v in 1..n {
            let v = v as State;
            for child in self.children(v) {
                let b = self.byte[child as usize];
                let mut f = self.fail[v as usize];
                let target = loop {
                    if let Some(c) = self.child(f, b) {
                        break c;
                    }
                    if f == ROOT {
                        break ROOT;
                    }
                    f = self.fail[f as usize];
                };
                self.fail[child as usize] = target;
            }
        }
    }

    fn children(&self, v: State) -> std::ops::Range<State> {
        self.first_child[v as usize]..self.first_child[v as usize + 1]
    }

    fn child(&self, v: State, b: u8) -> Option<State> {
        if v == ROOT {
            return Some(self.from_root[usize::from(b)]).filter(|&c| c != ROOT);
        }
        let (start, end) =
            (self.first_child[v as usize] as usize, self.first_child[v as usize + 1] as usize);
        match end - start {
            0 => None,
            1 => (self.byte[start] == b).then_some(start as State),
            _ => self.byte[start..end].binary_search(&b).ok().map(|i| (start + i) as State),
        }
    }

    /// The state after reading `text` from the root: the longest end of `text` that is a
    /// prefix of some secret.
    pub fn scan(&self, text: &[u8]) -> State {
        let mut v = ROOT;
        let mut i = 0;
        while i < text.len() {
            if v == ROOT {
                // Most bytes start no secret: skip them without the general step.
                match text[i..].iter().position(|&b| self.from_root[usize::from(b)] != ROOT) {
                    Some(skip) => i += skip,
                    None => return ROOT,
                }
            }
            let b = text[i];
            i += 1;
            v = self.step(v, b);
        }
        v
    }

    /// The state after `v` reads `b`.
    fn step(&self, mut v: State, b: u8) -> State {
        loop {
            if let Some(c) = self.child(v, b) {
                return c;
            }
            if v == ROOT {
                return ROOT;
            }
            v = self.fail[v as usize];
        }
    }

    /// How many bytes `v` stands for.
    pub fn depth(&self, v: State) -> usize {
        self.level_start.partition_point(|&start| start <= v) - 1
    }

    /// The longest of `v` and its shorter ends (its failure chain) that is at most `max`
    /// bytes long and a *proper* prefix of some secret (a node with children): the part of a
    /// stream that must wait for more output. 0 when there is none.
    pub fn pending(&self, mut v: State, max: usize) -> usize {
        loop {
            if v == ROOT {
                return 0;
            }
            let depth = self.depth(v);
            if depth <= max && !self.children(v).is_empty() {
                return depth;
            }
            v = self.fail[v as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn automaton(secrets: &[&str]) -> Prefixes {
        let mut s: Vec<Vec<u8>> = secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
        s.sort();
        s.dedup();
        Prefixes::new(&s).expect("small")
    }

    fn pending(p: &Prefixes, text: &str) -> usize {
        p.pending(p.scan(text.as_bytes()), text.len())
    }

    /// The definition, checked naively.
    fn naive(secrets: &[&str], text: &str) -> usize {
        (1..=text.len())
            .rev()
            .find(|&k| {
                let tail = &text.as_bytes()[text.len() - k..];
                secrets.iter().any(|s| s.len() > k && s.as_bytes().starts_with(tail))
            })
            .unwrap_or(0)
    }

    #[test]
    fn the_longest_end_that_could_become_a_secret() {
        let p = automaton(&["hunter2", "huge", "abcabd"]);
        assert_eq!(pending(&p, "the password is hun"), 3);
        assert_eq!(pending(&p, "hu"), 2);
        assert_eq!(pending(&p, "hunter2"), 0);
        assert_eq!(pending(&p, "xabcab"), 5);
        assert_eq!(pending(&p, "abcabc"), 3);
        assert_eq!(pending(&p, "nothing\n"), 0);
        assert_eq!(pending(&p, ""), 0);
    }

    #[test]
    fn a_whole_secret_that_starts_a_longer_one_is_pending() {
        let p = automaton(&["abc", "abcdef"]);
        assert_eq!(pending(&p, "xabc"), 3);
        assert_eq!(pending(&p, "xabcde"), 5);
        assert_eq!(pending(&p, "xabcdef"), 0);
    }

    #[test]
    fn the_limit_picks_a_shorter_end() {
        let p = automaton(&["aaab", "ab"]);
        let v = p.scan(b"xaaa");
        assert_eq!(p.pending(v, 4), 3);
        assert_eq!(p.pending(v, 2), 2);
        assert_eq!(p.pending(v, 0), 0);
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_definition(
            secrets in proptest::collection::vec("[ab]{1,6}", 1..6),
            text in "[abc]{0,20}",
        ) {
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let p = automaton(&refs);
            proptest::prop_assert_eq!(pending(&p, &text), naive(&refs, &text));
        }
    }
}
