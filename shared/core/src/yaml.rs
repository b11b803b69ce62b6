//! A YAML document as a tree of nodes that each know where they start in the source.
//!
//! kiln reads buildspecs and project catalogs through this tree so that every diagnostic
//! can name a line and a column. Scalars keep their text and quoting style; what a plain
//! scalar *means* (null, boolean, number, string) is decided by the reader with YAML 1.1
//! rules, because that is how CodeBuild reads buildspecs (`yes`/`no`/`on`/`off` are
//! booleans). Anchors and aliases are resolved and `<<` merge keys are applied while the
//! tree is built; custom tags (`!join`, `!Ref`) are kept but otherwise ignored.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::diagnostic::{Diagnostic, Position};

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub pos: Position,
    /// A tag written on the node (`!join`, `!!str`), if any.
    pub tag: Option<String>,
    /// The node itself.
    pub value: Value,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar, with its text as written (after YAML's unquoting and folding).
    Scalar(Scalar),
    /// A sequence.
    Sequence(Vec<Node>),
    /// A mapping, in source order, merge keys applied.
    Mapping(Vec<Entry>),
}

/// A key and its value in a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key node.
    pub key: Node,
    /// The value node.
    pub value: Node,
}

/// A scalar's text and how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The text after unquoting.
    pub text: String,
    /// Whether it was written plain (unquoted, not a block scalar): only plain scalars can be
    /// nulls, booleans or numbers.
    pub plain: bool,
}

/// The YAML 1.1 meaning of a scalar, as Go's YAML readers (and so CodeBuild) resolve it.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// `~`, `null`, or nothing at all.
    Null,
    /// `yes`/`no`/`true`/`false`/`on`/`off`/`y`/`n` in their usual spellings.
    Bool(bool),
    /// A decimal, `0x`, `0o`/leading-zero octal or `0b` integer.
    Int(i128),
    /// A decimal float, `.inf` or `.nan`.
    Float(f64),
    /// Anything else, and every quoted or block scalar.
    Str,
}

impl Node {
    /// The node's kind in words, for messages: "a string", "a list", "a mapping", "a number".
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => "empty",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) | Resolved::Float(_) => "a number",
                Resolved::Str => "a string",
            },
        }
    }

    /// The scalar, when this node is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, when this node is a mapping.
    pub fn as_mapping(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Mapping(m) => Some(m),
            _ => None,
        }
    }

    /// The items, when this node is a sequence.
    pub fn as_sequence(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this node is a null scalar (`~`, `null` or nothing).
    pub fn is_null(&self) -> bool {
        self.as_scalar().is_some_and(|s| s.resolve() == Resolved::Null)
    }

    /// The value for `key` in a mapping node, the last one when the key is repeated.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_mapping()?
            .iter()
            .rev()
            .find(|e| e.key.as_scalar().is_some_and(|k| k.text == key))
            .map(|e| &e.value)
    }

    /// This node as `serde_json::Value`, scalars resolved with YAML 1.1 rules (quoted
    /// scalars stay strings). Keys become their text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Sequence(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Mapping(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| {
                        let key = match &e.key.value {
                            Value::Scalar(s) => s.text.clone(),
                            _ => e.key.to_json().to_string(),
                        };
                        (key, e.value.to_json())
                    })
                    .collect(),
            ),
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => J::Null,
                Resolved::Bool(b) => J::Bool(b),
                Resolved::Int(i) => {
                    i64::try_from(i).map(J::from).unwrap_or_else(|_| J::String(s.text.clone()))
                }
                Resolved::Float(f) => serde_json::Number::from_f64(f)
                    .map_or_else(|| J::String(s.text.clone()), J::Number),
                Resolved::Str => J::String(s.text.clone()),
            },
        }
    }
}

impl Scalar {
    /// The YAML 1.1 meaning of this scalar.
    pub fn resolve(&self) -> Resolved {
        if !self.plain {
            return Resolved::Str;
        }
        resolve_plain(&self.text)
    }

    /// The scalar as a string the way CodeBuild turns typed values into strings: booleans
    /// become `true`/`false`, numbers their canonical decimal form, null the empty string.
    pub fn to_canonical_string(&self) -> String {
        match self.resolve() {
            Resolved::Null => String::new(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Int(i) => i.to_string(),
            Resolved::Float(f) => format_float_like_go(f),
            Resolved::Str => self.text.clone(),
        }
    }

    /// The boolean this scalar spells, in any case and quoted or not: `yes/no/true/false/on/off`.
    pub fn as_bool_lenient(&self) -> Option<bool> {
        match self.text.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "y" => Some(true),
            "no" | "false" | "off" | "n" => Some(false),
            _ => None,
        }
    }
}

/// Resolves a plain scalar's text with YAML 1.1 rules.
pub fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Resolved::Str;
    }
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_int(&cleaned) {
        return Resolved::Int(i);
    }
    if is_float(&cleaned) {
        if let Ok(f) = cleaned.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    Resolved::Str
}

fn parse_int(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i128::from_str_radix(oct, 8).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, the float form Go's YAML reader accepts.
fn is_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Formats a float as Go's `fmt.Sprint` does: the shortest text that reads back the same,
/// with an exponent (`1e+21`, `1e-05`) only for very large or very small magnitudes.
pub fn format_float_like_go(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        let text = format!("{f:e}");
        if let Some((mantissa, exp)) = text.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{mantissa}e{sign}{digits:0>2}");
        }
        return text;
    }
    format!("{f}")
}

/// The result of reading a YAML text: the first document's root (if the text has one) and
/// warnings about what was passed over. A syntax error is returned as `Err`.
#[derive(Debug, Clone)]
pub struct Document {
    /// The root node of the first document; `None` for an empty text.
    pub root: Option<Node>,
    /// Warnings, such as further documents that are ignored.
    pub warnings: Vec<Diagnostic>,
}

/// The most nodes one text may expand to through aliases, so a "billion laughs" text
/// cannot exhaust memory.
const MAX_NODES: usize = 1_000_000;

/// Reads a YAML text into a tree.
///
/// # Errors
/// A diagnostic at the position of the first syntax error, such as an unknown alias.
pub fn parse(text: &str) -> Result<Document, Diagnostic> {
    let mut builder = Builder::default();
    let mut documents = 0usize;
    let mut root: Option<Node> = None;
    let mut warnings = Vec::new();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            let at = Position::new(line_u32(m.line()), col_u32(m.col()));
            syntax_error(text, at, e.info())
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents == 2 {
                    warnings.push(Diagnostic::warning(
                        pos(&span),
                        "",
                        "the text has more than one YAML document; only the first is read",
                    ));
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            event if documents <= 1 => {
                if let Some(node) = builder.push(event, &span)? {
                    root = Some(node);
                }
            }
            _ => {}
        }
    }
    Ok(Document { root, warnings })
}

/// The diagnostic for a syntax error the scanner found at `at`.
///
/// The scanner notices a line that is neither `key: value` nor `- item` only where it
/// expected the `:`, often lines later (after comments); the diagnostic points at the line
/// that started the stray text instead, as libyaml's "while scanning a simple key" does.
fn syntax_error(text: &str, at: Position, info: &str) -> Diagnostic {
    if info.contains("simple key expect ':'") || info.contains("could not find expected ':'") {
        let lines: Vec<&str> = text.lines().collect();
        let before = (at.line as usize).saturating_sub(1).min(lines.len());
        let start = lines[..before].iter().enumerate().rev().find(|(_, l)| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#')
        });
        if let Some((i, line)) = start {
            let column = line.chars().take_while(|c| c.is_whitespace()).count() + 1;
            return Diagnostic::error(
                Position::new(line_u32(i + 1), u32::try_from(column).unwrap_or(u32::MAX)),
                "",
                "invalid YAML: this text is neither a `key: value` nor a `- item`; could not find the expected ':'",
            )
            .with_help("in a list, start the line with `- `; quote text that contains `: `");
        }
    }
    Diagnostic::error(at, "", format!("invalid YAML: {info}"))
}

fn line_u32(line: usize) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

fn col_u32(col0: usize) -> u32 {
    u32::try_from(col0 + 1).unwrap_or(u32::MAX)
}

fn pos(span: &Span) -> Position {
    Position::new(line_u32(span.start.line()), col_u32(span.start.col()))
}

enum Open {
    Sequence { node: Node, anchor: usize, items: Vec<Node> },
    Mapping { node: Node, anchor: usize, entries: Vec<Entry>, pending_key: Option<Node> },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl Builder {
    /// Takes one event; returns the root once the document's top node is complete.
    fn push(&mut self, event: Event<'_>, span: &Span) -> Result<Option<Node>, Diagnostic> {
        let start = pos(span);
        let complete = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    pos: start,
                    tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    }),
                };
                self.register(anchor, &node);
                node
            }
            Event::Alias(id) => {
                let mut node = self.anchors.get(&id).cloned().ok_or_else(|| {
                    Diagnostic::error(
                        start,
                        "",
                        "invalid YAML: an alias refers to an unknown anchor",
                    )
                })?;
                self.nodes = self.nodes.saturating_add(count_nodes(&node));
                if self.nodes > MAX_NODES {
                    return Err(Diagnostic::error(
                        start,
                        "",
                        "invalid YAML: aliases expand to more than a million nodes",
                    ));
                }
                node.pos = start;
                node
            }
            Event::SequenceStart(anchor, tag) => {
                let node = Node {
                    pos: start,
                    tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    value: Value::Sequence(Vec::new()),
                };
                self.stack.push(Open::Sequence { node, anchor, items: Vec::new() });
                return Ok(None);
            }
            Event::MappingStart(anchor, tag) => {
                let node = Node {
                    pos: start,
                    tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    value: Value::Mapping(Vec::new()),
                };
                self.stack.push(Open::Mapping {
                    node,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                });
                return Ok(None);
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Sequence { mut node, anchor, items }) => {
                    node.value = Value::Sequence(items);
                    self.register(anchor, &node);
                    node
                }
                Some(Open::Mapping { mut node, anchor, entries, .. }) => {
                    node.value = Value::Mapping(apply_merge_keys(entries));
                    self.register(anchor, &node);
                    node
                }
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error(start, "", "invalid YAML: more than a million nodes"));
        }
        Ok(self.attach(complete))
    }

    fn register(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn attach(&mut self, node: Node) -> Option<Node> {
        match self.stack.last_mut() {
            None => Some(node),
            Some(Open::Sequence { items, .. }) => {
                items.push(node);
                None
            }
            Some(Open::Mapping { entries, pending_key, .. }) => {
                match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => entries.push(Entry { key, value: node }),
                }
                None
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Scalar(_) => 1,
        Value::Sequence(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Mapping(entries) => {
            1 + entries.iter().map(|e| count_nodes(&e.key) + count_nodes(&e.value)).sum::<usize>()
        }
    }
}

fn is_merge_key(node: &Node) -> bool {
    node.as_scalar().is_some_and(|s| s.plain && s.text == "<<")
}

/// Applies YAML merge keys: the entries of `<<: *anchor` (or a list of anchors) are added
/// after the mapping's own, and never replace a key the mapping writes itself.
fn apply_merge_keys(entries: Vec<Entry>) -> Vec<Entry> {
    if !entries.iter().any(|e| is_merge_key(&e.key)) {
        return entries;
    }
    let (merges, mut own): (Vec<Entry>, Vec<Entry>) =
        entries.into_iter().partition(|e| is_merge_key(&e.key));
    let key_text = |e: &Entry| e.key.as_scalar().map(|s| s.text.clone());
    let mut seen: Vec<Option<String>> = own.iter().map(key_text).collect();
    for merge in merges {
        let sources: Vec<Node> = match merge.value.value {
            Value::Mapping(_) => vec![merge.value],
            Value::Sequence(items) => items,
            Value::Scalar(_) => vec![merge.value],
        };
        for source in sources {
            match source.value {
                Value::Mapping(inner) => {
                    for entry in inner {
                        let k = key_text(&entry);
                        if k.is_none() || !seen.contains(&k) {
                            seen.push(k);
                            own.push(entry);
                        }
                    }
                }
                _ => own.push(Entry {
                    key: Node {
                        pos: source.pos,
                        tag: None,
                        value: Value::Scalar(Scalar { text: "<<".into(), plain: true }),
                    },
                    value: source,
                }),
            }
        }
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text).expect("valid yaml").root.expect("a root")
    }

    #[test]
    fn positions_are_one_based() {
        let doc = root("a: 1\nb:\n  - x\n  - 'y'\n");
        let b = doc.get("b").expect("b");
        let items = b.as_sequence().expect("seq");
        assert_eq!(items[0].pos, Position::new(3, 5));
        assert_eq!(items[1].pos, Position::new(4, 5));
        assert!(!items[1].as_scalar().expect("scalar").plain);
    }

    #[test]
    fn yaml_11_resolution() {
        assert_eq!(resolve_plain("yes"), Resolved::Bool(true));
        assert_eq!(resolve_plain("Off"), Resolved::Bool(false));
        assert_eq!(resolve_plain("0.2"), Resolved::Float(0.2));
        assert_eq!(resolve_plain("010"), Resolved::Int(8));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("1.2.3"), Resolved::Str);
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("-"), Resolved::Str);
        assert_eq!(resolve_plain("echo"), Resolved::Str);
    }

    #[test]
    fn floats_format_like_go() {
        assert_eq!(format_float_like_go(3.1), "3.1");
        assert_eq!(format_float_like_go(1.0), "1");
        assert_eq!(format_float_like_go(1e21), "1e+21");
        assert_eq!(format_float_like_go(0.00001), "1e-05");
    }

    #[test]
    fn merge_keys_and_aliases() {
        let doc = root("base: &b\n  x: 1\n  y: 2\nthing:\n  <<: *b\n  y: 3\n");
        let thing = doc.get("thing").expect("thing");
        let keys: Vec<_> = thing
            .as_mapping()
            .expect("map")
            .iter()
            .map(|e| {
                (
                    e.key.as_scalar().expect("k").text.clone(),
                    e.value.as_scalar().expect("v").text.clone(),
                )
            })
            .collect();
        assert_eq!(keys, vec![("y".into(), "3".into()), ("x".into(), "1".into())]);
    }

    #[test]
    fn unknown_alias_is_an_error_with_position() {
        let err = parse("a: *nope\n").expect_err("unknown anchor");
        assert_eq!(err.position.line, 1);
        assert!(err.message.contains("unknown anchor"), "{}", err.message);
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("a: b: c\n").expect_err("syntax");
        assert_eq!(err.position, Position::new(1, 5));
    }

    #[test]
    fn empty_text_has_no_root() {
        assert!(parse("").expect("ok").root.is_none());
        assert!(parse("# only a comment\n").expect("ok").root.is_none());
    }

    #[test]
    fn to_json_resolves_scalars() {
        let doc = root("a: yes\nb: '1'\nc: 2\nd: [x, ~]\n");
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"a": true, "b": "1", "c": 2, "d": ["x", null]})
        );
    }
}
