//! Reading back what a shell prints about its variables (`set`, `export -p` of dash and of bash
//! in POSIX mode) into raw values, so kiln re-quotes every value itself and never passes shell
//! text it did not write to a later shell.
//!
//! The decoder is strict: it knows the quoting those shells print (`'...'` with `'\''` or
//! `"'"` for a quote, `"..."` with backslash escapes, `$'...'`, bare words, bash's indexed
//! arrays `([0]="a" [1]=$'b')`) and refuses anything else, such as an unquoted `$(`, a `` ` ``
//! or an operator. A refused entry is dropped, never passed on.

/// A decoded variable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A plain value.
    Scalar(Vec<u8>),
    /// A bash indexed array: (index, value) in order.
    Array(Vec<(u64, Vec<u8>)>),
}

/// Why an entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A quote is not closed.
    #[error("unterminated quote")]
    Unterminated,
    /// A character the shell never prints unquoted (it would be code, not data).
    #[error("unexpected {0:?} outside quotes")]
    Unexpected(char),
    /// An expansion inside double quotes.
    #[error("expansion inside double quotes")]
    Expansion,
    /// A NUL byte, which no shell value can hold.
    #[error("NUL byte in a value")]
    Nul,
    /// An array element without a decimal index (a bash associative array).
    #[error("array element without a decimal index")]
    ArrayIndex,
}

/// Splits shell output into entries at newlines outside quotes.
pub fn split_entries(text: &[u8]) -> Vec<&[u8]> {
    #[derive(PartialEq)]
    enum Q {
        None,
        Single,
        Double,
        Dollar,
    }
    let mut entries = Vec::new();
    let mut start = 0;
    let mut q = Q::None;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        match q {
            Q::None => match b {
                b'\\' => i += 1,
                b'\'' => q = Q::Single,
                b'"' => q = Q::Double,
                b'$' if text.get(i + 1) == Some(&b'\'') => {
                    q = Q::Dollar;
                    i += 1;
                }
                b'\n' => {
                    if i > start {
                        entries.push(&text[start..i]);
                    }
                    start = i + 1;
                }
                _ => {}
            },
            Q::Single if b == b'\'' => q = Q::None,
            Q::Double | Q::Dollar if b == b'\\' => i += 1,
            Q::Double if b == b'"' => q = Q::None,
            Q::Dollar if b == b'\'' => q = Q::None,
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        entries.push(&text[start..]);
    }
    entries
}

/// Decodes the value part of `NAME=value` (everything after the `=`).
pub fn value(text: &[u8]) -> Result<Value, DecodeError> {
    let mut c = Cursor { s: text, i: 0 };
    if c.peek() == Some(b'(') {
        c.i += 1;
        let mut elements = Vec::new();
        loop {
            while c.peek() == Some(b' ') {
                c.i += 1;
            }
            match c.peek() {
                Some(b')') if c.i + 1 == text.len() => return Ok(Value::Array(elements)),
                Some(b'[') => {
                    c.i += 1;
                    let digits = c.take_while(|b| b.is_ascii_digit());
                    let index = std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse::<u64>().ok())
                        .ok_or(DecodeError::ArrayIndex)?;
                    if c.next() != Some(b']') || c.next() != Some(b'=') {
                        return Err(DecodeError::ArrayIndex);
                    }
                    elements.push((index, c.word(b" )")?));
                }
                Some(b) => return Err(DecodeError::Unexpected(char::from(b))),
                None => return Err(DecodeError::Unterminated),
            }
        }
    }
    let word = c.word(b"")?;
    Ok(Value::Scalar(word))
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &[u8] {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// One shell word up to one of `stop` (unquoted) or the end.
    fn word(&mut self, stop: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if stop.contains(&b) {
                break;
            }
            self.i += 1;
            match b {
                b'\'' => loop {
                    match self.next().ok_or(DecodeError::Unterminated)? {
                        b'\'' => break,
                        b => out.push(b),
                    }
                },
                b'"' => self.double_quoted(&mut out)?,
                b'$' if self.peek() == Some(b'\'') => {
                    self.i += 1;
                    self.ansi_c(&mut out)?;
                }
                b'\\' => match self.next().ok_or(DecodeError::Unterminated)? {
                    b'\n' => {}
                    b => out.push(b),
                },
                b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' | b'`'
                | b'$' => return Err(DecodeError::Unexpected(char::from(b))),
                b => out.push(b),
            }
        }
        if out.contains(&0) {
            return Err(DecodeError::Nul);
        }
        Ok(out)
    }

    fn double_quoted(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        loop {
            match self.next().ok_or(DecodeError::Unterminated)? {
                b'"' => return Ok(()),
                b'\\' => match self.next().ok_or(DecodeError::Unterminated)? {
                    b'\n' => {}
                    b @ (b'$' | b'`' | b'"' | b'\\') => out.push(b),
                    b => out.extend_from_slice(&[b'\\', b]),
                },
                b'$' | b'`' => return Err(DecodeError::Expansion),
                b => out.push(b),
            }
        }
    }

    /// The rest of a `$'...'` string (after the opening quote), bash's escapes decoded.
    fn ansi_c(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        loop {
            let b = self.next().ok_or(DecodeError::Unterminated)?;
            if b == b'\'' {
                return Ok(());
            }
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let e = self.next().ok_or(DecodeError::Unterminated)?;
            match e {
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'e' | b'E' => out.push(27),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(11),
                b'\\' | b'\'' | b'"' | b'?' => out.push(e),
                b'0'..=b'7' => {
                    let mut n = u32::from(e - b'0');
                    for _ in 0..2 {
                        match self.peek() {
                            Some(d @ b'0'..=b'7') => {
                                self.i += 1;
                                n = n * 8 + u32::from(d - b'0');
                            }
                            _ => break,
                        }
                    }
                    out.push(u8::try_from(n & 0xff).unwrap_or(0));
                }
                b'x' => {
                    let n = self.hex(2).ok_or(DecodeError::Unexpected('x'))?;
                    out.push(u8::try_from(n).unwrap_or(0));
                }
                b'u' | b'U' => {
                    let n = self
                        .hex(if e == b'u' { 4 } else { 8 })
                        .ok_or(DecodeError::Unexpected('u'))?;
                    let c = char::from_u32(n).ok_or(DecodeError::Unexpected('u'))?;
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                b'c' => {
                    let x = self.next().ok_or(DecodeError::Unterminated)?;
                    out.push(x & 0x1f);
                }
                other => out.extend_from_slice(&[b'\\', other]),
            }
        }
    }

    /// Up to `max` hex digits (at least one).
    fn hex(&mut self, max: usize) -> Option<u32> {
        let mut n = 0u32;
        let mut count = 0;
        while count < max {
            let Some(d) = self.peek().and_then(|b| char::from(b).to_digit(16)) else { break };
            self.i += 1;
            n = n * 16 + d;
            count += 1;
        }
        (count > 0).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> Result<Vec<u8>, DecodeError> {
        match value(text.as_bytes())? {
            Value::Scalar(v) => Ok(v),
            Value::Array(_) => Err(DecodeError::ArrayIndex),
        }
    }

    #[test]
    fn decodes_what_dash_and_bash_print() {
        assert_eq!(scalar(r#"'it'"'"'s'"#).expect("dash"), b"it's");
        assert_eq!(scalar(r"'it'\''s'").expect("bash"), b"it's");
        assert_eq!(scalar("'a\nb'").expect("newline"), b"a\nb");
        assert_eq!(scalar("plain/x:y-z.1,2+3@%=").expect("bare"), b"plain/x:y-z.1,2+3@%=");
        assert_eq!(scalar("ctl\u{1}x").expect("control"), b"ctl\x01x");
        assert_eq!(scalar("").expect("empty"), b"");
        assert_eq!(scalar(r#""q\"\$x\\\z""#).expect("double"), br#"q"$x\\z"#);
        assert_eq!(scalar(r"$'a\nb\'c\x41\101\u00e9\E'").expect("ansi"), b"a\nb'cAA\xc3\xa9\x1b");
        assert_eq!(
            value(br#"([0]="1" [1]="two words" [5]=$'x\ny')"#).expect("array"),
            Value::Array(vec![
                (0, b"1".to_vec()),
                (1, b"two words".to_vec()),
                (5, b"x\ny".to_vec())
            ])
        );
    }

    #[test]
    fn refuses_code() {
        assert_eq!(scalar("$(touch x)"), Err(DecodeError::Unexpected('$')));
        assert_eq!(scalar("`id`"), Err(DecodeError::Unexpected('`')));
        assert_eq!(scalar("a;b"), Err(DecodeError::Unexpected(';')));
        assert_eq!(scalar("a b"), Err(DecodeError::Unexpected(' ')));
        assert_eq!(scalar(r#""$(id)""#), Err(DecodeError::Expansion));
        assert_eq!(scalar("'open"), Err(DecodeError::Unterminated));
        assert_eq!(scalar(r"$'\0'"), Err(DecodeError::Nul));
        assert_eq!(value(br#"([k]="v" )"#), Err(DecodeError::ArrayIndex));
        assert_eq!(value(br#"([$(id)]="v")"#), Err(DecodeError::ArrayIndex));
        assert_eq!(value(br#"([0]="v") x"#), Err(DecodeError::Unexpected(')')));
    }

    #[test]
    fn splits_multiline_values() {
        let text = b"A='x\ny'\nB=$'a\\nb\\'c'\nC=\"q\\\"\nr\"\nD=plain\n";
        let entries: Vec<&[u8]> = split_entries(text);
        assert_eq!(entries, [&b"A='x\ny'"[..], b"B=$'a\\nb\\'c'", b"C=\"q\\\"\nr\"", b"D=plain"]);
    }
}
