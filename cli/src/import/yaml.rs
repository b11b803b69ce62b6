//! A small YAML writer for the catalog's shapes: mappings, sequences, strings, booleans and
//! integers, in block style. kiln has no YAML serializer (it reads YAML through its own tree,
//! `kiln_core::yaml`), and a catalog must come back exactly as written, so every string is
//! written in the safest form that reads back the same under YAML 1.1 and 1.2 alike:
//!
//! - **plain** only for text that cannot be anything but a string: starting with a letter,
//!   `_`, `/`, `$`, `^`, `(` or `\`, made of printable ASCII without `#`, `"`, `'`, `` ` ``,
//!   with no `: ` and no trailing `:`, no leading or trailing space, and not a word YAML reads
//!   as a boolean or null (`yes`, `no`, `on`, `off`, `y`, `n`, `true`, `null`, `~`, …);
//! - a **literal block scalar** (`|`, `|-` or `|+` by its trailing newlines) for multi-line
//!   text made only of printable characters, such as an inline buildspec, unless it starts
//!   with a space or a newline or a line starts with a tab (which would need an indentation
//!   indicator, or which readers treat differently);
//! - **double-quoted** otherwise, escaping `\` and `"`, control characters, DEL, C1 controls,
//!   U+2028, U+2029, U+FEFF, U+FFFE and U+FFFF (`\n`, `\t`, `\uXXXX`, …).
//!
//! Empty mappings and sequences are `{}` and `[]`.

/// A value of the catalog tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A sequence.
    Seq(Vec<Value>),
    /// A mapping, in the order its keys are written.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// The same value as JSON (what `kiln_core::yaml::Node::to_json` reads back).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Str(s) => serde_json::Value::String(s.clone()),
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Int(i) => serde_json::Value::from(*i),
            Self::Seq(items) => items.iter().map(Self::to_json).collect(),
            Self::Map(entries) => serde_json::Value::Object(
                entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
        }
    }
}

/// A mapping built key by key; absent values are left out.
#[derive(Debug, Default)]
pub struct MapBuilder(Vec<(String, Value)>);

impl MapBuilder {
    /// A new, empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// `key: value`, when there is a value.
    #[must_use]
    pub fn value(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(value) = value {
            self.0.push((key.to_owned(), value));
        }
        self
    }

    /// `key: "text"`, when there is text.
    #[must_use]
    pub fn str(self, key: &str, text: Option<&str>) -> Self {
        self.value(key, text.map(|t| Value::Str(t.to_owned())))
    }

    /// `key: true|false`, when there is one.
    #[must_use]
    pub fn bool(self, key: &str, flag: Option<bool>) -> Self {
        self.value(key, flag.map(Value::Bool))
    }

    /// `key: n`, when there is one.
    #[must_use]
    pub fn int(self, key: &str, number: Option<i64>) -> Self {
        self.value(key, number.map(Value::Int))
    }

    /// `key: [items]`, when there are any.
    #[must_use]
    pub fn seq(self, key: &str, items: Vec<Value>) -> Self {
        self.value(key, (!items.is_empty()).then_some(Value::Seq(items)))
    }

    /// The mapping.
    pub fn build(self) -> Value {
        Value::Map(self.0)
    }

    /// The mapping, or `None` when it has no key.
    pub fn build_if_any(self) -> Option<Value> {
        (!self.0.is_empty()).then_some(Value::Map(self.0))
    }
}

/// `value` as a YAML document (ending with a newline).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0),
        Value::Seq(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            out.push_str(&inline(other, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar or an empty collection on the current line, or a block scalar whose lines follow
/// at `indent + 2`.
fn inline(value: &Value, indent: usize) -> String {
    match value {
        Value::Str(s) => scalar(s, indent + 2),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Seq(_) => "[]".to_owned(),
        Value::Map(_) => "{}".to_owned(),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Seq(items) => !items.is_empty(),
        Value::Map(entries) => !entries.is_empty(),
        _ => false,
    }
}

fn write_map(out: &mut String, entries: &[(String, Value)], indent: usize) {
    for (key, value) in entries {
        pad(out, indent);
        write_entry(out, key, value, indent);
    }
}

/// `key: value` from the current position, the key's column being `indent`.
fn write_entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    out.push_str(&if is_plain(key) { key.to_owned() } else { quoted(key) });
    out.push(':');
    match value {
        Value::Map(entries) if is_block(value) => {
            out.push('\n');
            write_map(out, entries, indent + 2);
        }
        Value::Seq(items) if is_block(value) => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, indent));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Value::Map(entries) if is_block(item) => {
                out.push(' ');
                let mut first = true;
                for (key, value) in entries {
                    if !first {
                        pad(out, indent + 2);
                    }
                    first = false;
                    write_entry(out, key, value, indent + 2);
                }
            }
            Value::Seq(inner) if is_block(item) => {
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar, indent));
                out.push('\n');
            }
        }
    }
}

/// `text` as a plain, block or double-quoted scalar (see the module docs); a block scalar's
/// lines are indented by `indent`.
pub fn scalar(text: &str, indent: usize) -> String {
    if is_plain(text) {
        return text.to_owned();
    }
    if let Some(block) = block(text, indent) {
        return block;
    }
    quoted(text)
}

fn is_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else { return false };
    let starts_well =
        first.is_ascii_alphabetic() || matches!(first, '_' | '/' | '$' | '^' | '(' | '\\');
    starts_well
        && text
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'#' | b'"' | b'\'' | b'`'))
        && !text.contains(": ")
        && !text.ends_with(':')
        && !text.ends_with(' ')
        && kiln_core::yaml::resolve_plain(text) == kiln_core::yaml::Resolved::Str
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
}

/// Whether `c` may stand in a block scalar as it is: YAML's printable characters, less the
/// ones some readers take for line breaks or byte-order marks.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

fn block(text: &str, indent: usize) -> Option<String> {
    let body = text.trim_end_matches('\n');
    let simple = text.contains('\n')
        && !body.is_empty()
        && !text.starts_with([' ', '\n'])
        && text.chars().all(is_printable)
        && !body.split('\n').any(|line| line.starts_with('\t'));
    if !simple {
        return None;
    }
    let trailing = text.len() - body.len();
    let mut out = String::from(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    let empty_after = trailing.saturating_sub(1);
    for line in body.split('\n').chain(std::iter::repeat_n("", empty_after)) {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    Some(out)
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_printable(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_back(value: &Value) -> serde_json::Value {
        let text = to_yaml(value);
        let doc = kiln_core::yaml::parse(&text).unwrap_or_else(|e| panic!("{e:?} in\n{text}"));
        doc.root.map_or(serde_json::Value::Null, |n| n.to_json())
    }

    fn nested(text: &str) -> Value {
        let s = || Value::Str(text.to_owned());
        MapBuilder::new()
            .value(
                "projects",
                Some(Value::Seq(vec![
                    MapBuilder::new()
                        .value("name", Some(s()))
                        .value("list", Some(Value::Seq(vec![s(), Value::Seq(vec![s(), s()])])))
                        .value("inner", Some(MapBuilder::new().value("deep", Some(s())).build()))
                        .build(),
                    s(),
                ])),
            )
            .value("last", Some(s()))
            .build()
    }

    const HOSTILE: &[&str] = &[
        "",
        " ",
        "yes",
        "no",
        "on",
        "off",
        "Y",
        "n",
        "NO",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "0",
        "12",
        "-3",
        "0x1F",
        "010",
        "1e3",
        "1_000",
        "1:20",
        "2024-01-01",
        ".inf",
        "-.inf",
        ".nan",
        "-",
        "- a",
        "? x",
        "key: value",
        "a #b",
        "#x",
        " lead",
        "trail ",
        "a:",
        "a::b",
        "@x",
        "`x",
        "!tag x",
        "&a",
        "*a",
        "%d",
        "|",
        "|-",
        "> x",
        "<<",
        "=",
        "[a]",
        "{a: b}",
        "'q'",
        "\"d\"",
        "a\\b",
        "tab\tin",
        "\tlead",
        "line\nbreak",
        "two\n\n",
        "\nlead\n",
        "  indented\nthen\n",
        "crlf\r\n",
        "cr\r",
        "\u{85}next",
        "a\u{2028}b",
        "\u{feff}bom",
        "\u{0}nul",
        "\u{7f}del",
        "\u{9b}c1",
        "\u{fffe}",
        "é and ü",
        "emoji 🎉",
        "---",
        "...",
        "--- x",
        "a\n---\nb\n",
        "a\n...\n",
        "x\n  # not a comment\n",
        "aws/codebuild/standard:7.0",
        "^refs/heads/(main|release/.*)$",
        "$CODEBUILD_SRC_DIR",
        "arn:aws:secretsmanager:us-east-1:1:secret:db-AbC:password::",
        "trailing spaces  \nx  \n",
        "\n",
        "\n\n",
        "last line without newline\nend",
    ];

    #[test]
    fn hostile_strings_read_back_unchanged() {
        for text in HOSTILE {
            let value = nested(text);
            assert_eq!(read_back(&value), value.to_json(), "{text:?} as\n{}", to_yaml(&value));
        }
    }

    #[test]
    fn plain_where_safe_block_for_buildspecs_quoted_otherwise() {
        let buildspec =
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"hi: there\" # x\n";
        let value = MapBuilder::new()
            .str("name", Some("web-app_2"))
            .str("image", Some("aws/codebuild/standard:7.0"))
            .str("flag", Some("yes"))
            .str("number", Some("5"))
            .bool("privilegedMode", Some(false))
            .int("timeoutInMinutes", Some(60))
            .str("buildspec", Some(buildspec))
            .str("kept", Some("a\n\n"))
            .str("chomped", Some("a\nb"))
            .seq("empty", Vec::new())
            .value("none", Some(Value::Map(Vec::new())))
            .build();
        assert_eq!(
            to_yaml(&value),
            "name: web-app_2\nimage: aws/codebuild/standard:7.0\nflag: \"yes\"\nnumber: \"5\"\nprivilegedMode: false\ntimeoutInMinutes: 60\nbuildspec: |\n  version: 0.2\n  phases:\n    build:\n      commands:\n        - echo \"hi: there\" # x\nkept: |+\n  a\n\nchomped: |-\n  a\n  b\nnone: {}\n"
        );
        assert_eq!(scalar("\u{0}\u{2028}\"\\", 0), "\"\\u0000\\u2028\\\"\\\\\"");
    }

    #[test]
    fn sequences_of_sequences_and_of_mappings() {
        let filter = |t: &str, p: &str| {
            MapBuilder::new().str("type", Some(t)).str("pattern", Some(p)).build()
        };
        let groups = Value::Seq(vec![
            Value::Seq(vec![filter("EVENT", "PUSH"), filter("HEAD_REF", "^refs/heads/main$")]),
            Value::Seq(vec![filter("EVENT", "PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED")]),
        ]);
        let value = MapBuilder::new().value("filterGroups", Some(groups)).build();
        let text = to_yaml(&value);
        assert_eq!(
            text,
            "filterGroups:\n  -\n    - type: EVENT\n      pattern: PUSH\n    - type: HEAD_REF\n      pattern: ^refs/heads/main$\n  -\n    - type: EVENT\n      pattern: PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED\n"
        );
        assert_eq!(read_back(&value), value.to_json());
    }

    proptest! {
        #[test]
        fn any_string_reads_back(text in any::<String>()) {
            let value = nested(&text);
            prop_assert_eq!(read_back(&value), value.to_json());
        }

        #[test]
        fn any_text_of_lines_reads_back(text in "[ -~\t\n\r#:|>-]{0,60}") {
            let value = nested(&text);
            prop_assert_eq!(read_back(&value), value.to_json());
        }
    }
}
