//! Reading a YAML text into a bounded tree of [`Node`]s, anchors, aliases and merge keys
//! resolved.
//!
//! Bounds [INF: CodeBuild documents none; real buildspecs and catalogs nest fewer than 10
//! levels and expand to far less]:
//! - nesting: at most [`MAX_DEPTH`] (128) lists and mappings inside one another, aliases
//!   counted at the depth where they are used: the tree is recursive, and a 200,000-level
//!   `- - - …` would overflow the stack of everything that walks it. 128 is serde_json's own
//!   limit, so a JSON catalog and its YAML form are bounded alike. saphyr-parser itself keeps
//!   its state on the heap (it does not recurse) and stops flow collections at 255 levels;
//!   that error is reported with the same message;
//! - size: at most [`MAX_NODES`] nodes and [`MAX_EXPANDED_BYTES`] of scalar text, counting
//!   everything each alias expands to (a "billion laughs" text, or many aliases of one large
//!   scalar, stops at the alias that crosses the bound).
//!
//! Every bound is answered with a diagnostic at the `line:col` of the node that crosses it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::diagnostic::{Diagnostic, Position};

use super::json::{self, Syntax};
use super::node::{Entry, Node, Scalar, Value};

/// The result of reading a YAML text: the first document's root (if the text has one) and
/// warnings about what was passed over. A syntax error is returned as `Err`.
#[derive(Debug, Clone)]
pub struct Document {
    /// The root node of the first document; `None` for an empty text.
    pub root: Option<Node>,
    /// Warnings, such as further documents that are ignored.
    pub warnings: Vec<Diagnostic>,
    /// Whether the text was JSON or YAML (see [`super::Syntax`]).
    pub syntax: Syntax,
}

/// The deepest nesting of lists and mappings a text may have (aliases expanded).
pub const MAX_DEPTH: usize = 128;

/// The most nodes one text may expand to through aliases.
pub const MAX_NODES: usize = 1_000_000;

/// The most scalar text (keys and values, in bytes) one text may expand to through aliases.
pub const MAX_EXPANDED_BYTES: usize = 64 << 20;

/// Reads a YAML text (JSON included) into a tree.
///
/// A JSON text (see [`super::Syntax`]) is read the same way; its diagnostics say
/// `invalid JSON`, and a syntax error is serde_json's, at its line and column.
///
/// # Errors
/// A diagnostic at the position of the first syntax error, such as an unknown alias, or of
/// the node that crosses one of the bounds ([`MAX_DEPTH`], [`MAX_NODES`],
/// [`MAX_EXPANDED_BYTES`]).
pub fn parse(text: &str) -> Result<Document, Diagnostic> {
    if !json::opens_like_json(text) {
        return parse_yaml(text);
    }
    match json::check(text) {
        Ok(()) => parse_yaml(text)
            .map(|doc| Document { syntax: Syntax::Json, ..doc })
            .map_err(json::renamed),
        Err(error) => match parse_yaml(text) {
            Ok(doc) => Ok(doc),
            Err(yaml) if json::too_deep(&error) => Err(json::renamed(yaml)),
            Err(yaml) if is_bound(&yaml) => Err(yaml),
            Err(_) => Err(json::diagnostic(text, &error)),
        },
    }
}

fn parse_yaml(text: &str) -> Result<Document, Diagnostic> {
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
    Ok(Document { root, warnings, syntax: Syntax::Yaml })
}

/// Whether `d` says that the text crosses one of the bounds (rather than a syntax error).
fn is_bound(d: &Diagnostic) -> bool {
    [TOO_DEEP, "invalid YAML: more than ", "invalid YAML: aliases expand to more than"]
        .iter()
        .any(|m| d.message.starts_with(m))
}

const TOO_DEEP: &str = "invalid YAML: lists and mappings nest more than";

fn too_deep(at: Position) -> Diagnostic {
    Diagnostic::error(at, "", format!("{TOO_DEEP} {MAX_DEPTH} levels deep"))
}

/// The diagnostic for a syntax error the scanner found at `at`.
///
/// The scanner notices a line that is neither `key: value` nor `- item` only where it
/// expected the `:`, often lines later (after comments); the diagnostic points at the line
/// that started the stray text instead, as libyaml's "while scanning a simple key" does.
fn syntax_error(text: &str, at: Position, info: &str) -> Diagnostic {
    if info.contains("recursion limit exceeded") {
        return too_deep(at);
    }
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

/// What a finished subtree weighs: its nodes, its scalar bytes and its height (0 for a
/// scalar, 1 for a list of scalars, ...).
#[derive(Debug, Clone, Copy, Default)]
struct Weight {
    nodes: usize,
    bytes: usize,
    height: usize,
}

/// A collection being read, with the totals at its start (so its own weight is the
/// difference at its end) and the greatest height among its children.
struct Open {
    node: Node,
    anchor: usize,
    kind: OpenKind,
    nodes_at_start: usize,
    bytes_at_start: usize,
    child_height: usize,
}

enum OpenKind {
    Sequence(Vec<Node>),
    Mapping { entries: Vec<Entry>, pending_key: Option<Node> },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, (Node, Weight)>,
    nodes: usize,
    bytes: usize,
}

impl Builder {
    /// Takes one event; returns the root once the document's top node is complete.
    fn push(&mut self, event: Event<'_>, span: &Span) -> Result<Option<Node>, Diagnostic> {
        let start = pos(span);
        let (complete, weight) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let weight = Weight { nodes: 1, bytes: text.len(), height: 0 };
                self.add(weight, start, "more than a million nodes", "of text")?;
                let node = Node {
                    pos: start,
                    tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    }),
                };
                self.register(anchor, &node, weight);
                (node, weight)
            }
            Event::Alias(id) => {
                let (mut node, weight) = self.anchors.get(&id).cloned().ok_or_else(|| {
                    Diagnostic::error(
                        start,
                        "",
                        "invalid YAML: an alias refers to an unknown anchor",
                    )
                })?;
                if self.stack.len() + weight.height > MAX_DEPTH {
                    return Err(too_deep(start));
                }
                self.add(
                    weight,
                    start,
                    "aliases expand to more than a million nodes",
                    "of text through aliases",
                )?;
                node.pos = start;
                (node, weight)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(start, anchor, tag, OpenKind::Sequence(Vec::new()))?;
                return Ok(None);
            }
            Event::MappingStart(anchor, tag) => {
                let kind = OpenKind::Mapping { entries: Vec::new(), pending_key: None };
                self.open(start, anchor, tag, kind)?;
                return Ok(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.stack.pop() else { return Ok(None) };
                let mut node = open.node;
                node.value = match open.kind {
                    OpenKind::Sequence(items) => Value::Sequence(items),
                    OpenKind::Mapping { entries, .. } => Value::Mapping(apply_merge_keys(entries)),
                };
                let weight = Weight {
                    nodes: self.nodes - open.nodes_at_start,
                    bytes: self.bytes - open.bytes_at_start,
                    height: open.child_height + 1,
                };
                self.register(open.anchor, &node, weight);
                (node, weight)
            }
            _ => return Ok(None),
        };
        Ok(self.attach(complete, weight.height))
    }

    /// Opens a list or a mapping, counted as one node, unless it nests too deep.
    fn open(
        &mut self,
        start: Position,
        anchor: usize,
        tag: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>,
        kind: OpenKind,
    ) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(start));
        }
        let nodes_at_start = self.nodes;
        let bytes_at_start = self.bytes;
        self.add(Weight { nodes: 1, bytes: 0, height: 0 }, start, "more than a million nodes", "")?;
        let value = match kind {
            OpenKind::Sequence(_) => Value::Sequence(Vec::new()),
            OpenKind::Mapping { .. } => Value::Mapping(Vec::new()),
        };
        let node =
            Node { pos: start, tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)), value };
        self.stack.push(Open {
            node,
            anchor,
            kind,
            nodes_at_start,
            bytes_at_start,
            child_height: 0,
        });
        Ok(())
    }

    /// Counts `weight` into the totals, or says which bound it crosses.
    fn add(
        &mut self,
        weight: Weight,
        at: Position,
        too_many: &str,
        too_much: &str,
    ) -> Result<(), Diagnostic> {
        self.nodes = self.nodes.saturating_add(weight.nodes);
        self.bytes = self.bytes.saturating_add(weight.bytes);
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error(at, "", format!("invalid YAML: {too_many}")));
        }
        if self.bytes > MAX_EXPANDED_BYTES {
            return Err(Diagnostic::error(
                at,
                "",
                format!(
                    "invalid YAML: more than {} {too_much}",
                    crate::limits::Size(MAX_EXPANDED_BYTES as u64)
                ),
            ));
        }
        Ok(())
    }

    fn register(&mut self, anchor: usize, node: &Node, weight: Weight) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), weight));
        }
    }

    fn attach(&mut self, node: Node, height: usize) -> Option<Node> {
        let Some(open) = self.stack.last_mut() else { return Some(node) };
        open.child_height = open.child_height.max(height);
        match &mut open.kind {
            OpenKind::Sequence(items) => items.push(node),
            OpenKind::Mapping { entries, pending_key } => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push(Entry { key, value: node }),
            },
        }
        None
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

    fn depth_error(text: &str) -> Diagnostic {
        let err = parse(text).expect_err("too deep");
        assert_eq!(
            err.message, "invalid YAML: lists and mappings nest more than 128 levels deep",
            "{err:?}"
        );
        err
    }

    #[test]
    fn deep_block_sequences_are_an_error_not_a_stack_overflow() {
        let text = format!("a:\n  - {}x\n", "- ".repeat(200_000));
        let err = depth_error(&text);
        // `a` is level 1, the first `-` level 2: the 129th level starts at the 128th `-`.
        assert_eq!(err.position, Position::new(2, 3 + 2 * 127));
    }

    #[test]
    fn deep_flow_collections_are_an_error_not_a_stack_overflow() {
        depth_error(&format!("a: {}{}\n", "[".repeat(200_000), "]".repeat(200_000)));
        depth_error(&format!("a: {}\n", "{b: ".repeat(200_000)));
        depth_error(&format!("{}x", "[{a: ".repeat(100_000)));
        let line_by_line: String = (0..1_000).map(|i| format!("{}-\n", " ".repeat(i))).collect();
        depth_error(&line_by_line);
    }

    #[test]
    fn a_deep_later_document_is_passed_over_without_recursion() {
        let text = format!("a: 1\n---\n{}x\n", "- ".repeat(200_000));
        let doc = parse(&text).expect("the first document is read");
        assert_eq!(doc.warnings.len(), 1);
        assert_eq!(doc.root.and_then(|r| r.get("a").map(Node::to_json)), Some(1.into()));
    }

    #[test]
    fn the_depth_bound_is_exact() {
        let at_limit = format!("{}x{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&at_limit).is_ok());
        let over = format!("{}x{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        depth_error(&over);
    }

    #[test]
    fn aliases_count_at_the_depth_they_are_used() {
        let deep = format!("{}x{}", "[".repeat(100), "]".repeat(100));
        let text = format!("a: &d {deep}\nb: {}*d{}\n", "[".repeat(40), "]".repeat(40));
        let err = depth_error(&text);
        assert_eq!(err.position.line, 2);
    }

    #[test]
    fn aliases_of_a_large_scalar_stop_at_the_byte_bound() {
        let big = "x".repeat(1 << 20);
        let aliases: String = (0..200).map(|i| format!("k{i}: *big\n")).collect();
        let text = format!("v: &big {big}\n{aliases}");
        let err = parse(&text).expect_err("too much text");
        assert_eq!(err.message, "invalid YAML: more than 64 MiB of text through aliases");
        // The anchored value and 62 aliases fit (with their keys); the 63rd crosses the bound.
        assert_eq!(err.position, Position::new(64, 6));
    }

    #[test]
    fn nested_aliases_count_everything_they_expand_to() {
        let text = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        let err = parse(text).expect_err("billion laughs");
        assert_eq!(err.message, "invalid YAML: aliases expand to more than a million nodes");
        // `f` is the first to expand past a million nodes (10 × 111,111 + 1).
        assert_eq!(err.position.line, 6);
    }

    #[test]
    fn ordinary_anchors_and_aliases_still_read() {
        let doc = root("x: &v [a, {b: c}]\ny: *v\nz: *v\n");
        assert_eq!(doc.get("y").map(Node::to_json), doc.get("z").map(Node::to_json));
        assert_eq!(doc.get("y").map(Node::to_json), Some(serde_json::json!(["a", {"b": "c"}])));
    }

    #[test]
    fn json_is_read_and_named_json() {
        let doc = parse("{\"projects\": [{\"name\": \"app\"}]}").expect("json");
        assert_eq!(doc.syntax, Syntax::Json);
        assert_eq!(
            doc.root.map(|r| r.to_json()),
            Some(serde_json::json!({"projects": [{"name": "app"}]}))
        );
        let err = parse(
            "{\n  \"projects\": [\n    {\"name\": \"app\"}\n    {\"name\": \"web\"}\n  ]\n}\n",
        )
        .expect_err("a missing comma");
        assert_eq!(err.message, "invalid JSON: expected `,` or `]`");
        assert_eq!(err.position, Position::new(4, 5));
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        let err = parse(&deep).expect_err("too deep");
        assert_eq!(err.message, "invalid JSON: lists and mappings nest more than 128 levels deep");
    }

    #[test]
    fn flow_yaml_that_is_not_json_stays_yaml() {
        let doc = parse("{projects: [{name: app}]}").expect("flow yaml");
        assert_eq!(doc.syntax, Syntax::Yaml);
        assert_eq!(parse("a: 1\n").expect("yaml").syntax, Syntax::Yaml);
        let err = parse("a: b: c\n").expect_err("syntax");
        assert!(err.message.starts_with("invalid YAML: "), "{}", err.message);
    }
}
