//! The typed readers every part of the parser shares: sections with known keys, strings,
//! booleans and lists, each reporting wrong types with the node's position and YAML path.

use crate::diagnostic::{Diagnostic, Position, child_path, index_path};
use crate::yaml::{Node, Resolved, Value};

use super::super::keys::Key;
use super::super::model::Version;
use super::super::suggest::did_you_mean;

/// Collects diagnostics while the tree is read.
#[derive(Debug)]
pub(super) struct Reader<'t> {
    /// Everything found so far, in discovery order.
    pub diagnostics: Vec<Diagnostic>,
    /// The file's version once read; 0.2 until then.
    pub version: Version,
    /// The text being read, for positions the YAML tree does not give (an empty item's `-`).
    pub text: &'t str,
}

/// A mapping whose keys were checked against a key table: the last value of each key.
#[derive(Debug)]
pub(super) struct Section<'a> {
    /// The mapping's YAML path.
    pub path: String,
    entries: Vec<(&'a str, &'a Node, Position)>,
}

impl<'a> Section<'a> {
    /// The value of `name`, with its path.
    pub fn get(&self, name: &str) -> Option<(&'a Node, String)> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| *k == name)
            .map(|(_, v, _)| (*v, child_path(&self.path, name)))
    }

    /// Where the key `name` is written.
    pub fn key_pos(&self, name: &str) -> Option<Position> {
        self.entries.iter().rev().find(|(k, _, _)| *k == name).map(|(_, _, p)| *p)
    }
}

/// A key's text: the scalar's text, or `None` for a key that is a list or a mapping.
pub(super) fn key_text(node: &Node) -> Option<&str> {
    node.as_scalar().map(|s| s.text.as_str())
}

impl<'t> Reader<'t> {
    pub fn new(text: &'t str) -> Self {
        Self { diagnostics: Vec::new(), version: Version::V0_2, text }
    }

    /// Where the `-` of an empty list item is: the YAML tree places an empty scalar where the
    /// next token starts (the end of the line, after a comment); `at` when no `-` precedes it
    /// on its line.
    pub fn dash_before(&self, at: Position) -> Position {
        let Some(line) = self.text.lines().nth((at.line as usize).saturating_sub(1)) else {
            return at;
        };
        let before: String = line.chars().take((at.column as usize).saturating_sub(1)).collect();
        let code = match before.find(" #") {
            Some(i) => &before[..i],
            None => before.as_str(),
        };
        let code = code.trim_end();
        if code.ends_with('-') {
            Position::new(at.line, u32::try_from(code.chars().count()).unwrap_or(at.column))
        } else {
            at
        }
    }

    pub fn error(&mut self, pos: Position, path: &str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(pos, path, message));
    }

    pub fn warning(&mut self, pos: Position, path: &str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::warning(pos, path, message));
    }

    /// Adds `help` to the diagnostic pushed last.
    pub fn help(&mut self, help: impl Into<String>) {
        if let Some(last) = self.diagnostics.last_mut() {
            last.help = Some(help.into());
        }
    }

    /// Reports `node` as not being what `expected` says: `expected a list of strings, found a
    /// mapping`.
    pub fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.error(node.pos, path, format!("expected {expected}, found {}", node.kind_name()));
    }

    /// The entries of a mapping, with duplicate keys (warning, the last one wins) and keys
    /// missing from `keys` (warning, with CodeBuild's wording and a suggestion) reported.
    /// `None`, after an error, when `node` is not a mapping; an empty section for a null node.
    pub fn section<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        keys: &'static [Key],
    ) -> Option<Section<'a>> {
        let entries = self.entries(node, path, "a mapping")?;
        let mut section = Section { path: path.to_owned(), entries: Vec::new() };
        for (name, value, pos) in entries {
            match keys.iter().find(|k| k.name == name) {
                Some(k) => {
                    if k.since_0_2 && self.version == Version::V0_1 {
                        self.warning(
                            pos,
                            &child_path(path, name),
                            format!("`{name}` is a version 0.2 feature; kiln reads it in this 0.1 buildspec"),
                        );
                        self.help(
                            "CodeBuild documents it for version 0.2 only: use `version: 0.2`",
                        );
                    }
                }
                None => self.unknown_key(pos, path, name, keys.iter().map(|k| k.name)),
            }
            section.entries.push((name, value, pos));
        }
        for k in keys.iter().filter(|k| k.required) {
            if section.get(k.name).is_none() {
                self.error(node.pos, path, format!("missing required key `{}`", k.name));
            }
        }
        Some(section)
    }

    /// The entries of a mapping whose keys are names of the user's choice, duplicates
    /// reported. `None`, after an error, when `node` is not a mapping.
    pub fn entries<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        expected: &str,
    ) -> Option<Vec<(&'a str, &'a Node, Position)>> {
        let list = match &node.value {
            Value::Mapping(list) => list,
            _ if node.is_null() => return Some(Vec::new()),
            _ => {
                self.wrong_type(node, path, expected);
                return None;
            }
        };
        let mut out: Vec<(&'a str, &'a Node, Position)> = Vec::with_capacity(list.len());
        for entry in list {
            let Some(name) = key_text(&entry.key) else {
                self.error(
                    entry.key.pos,
                    path,
                    format!("expected a key, found {}", entry.key.kind_name()),
                );
                continue;
            };
            if out.iter().any(|(k, _, _)| *k == name) {
                self.warning(
                    entry.key.pos,
                    &child_path(path, name),
                    format!("duplicate key `{name}`; the last one is used"),
                );
                out.retain(|(k, _, _)| *k != name);
            }
            out.push((name, &entry.value, entry.key.pos));
        }
        Some(out)
    }

    /// The warning CodeBuild gives for a key it does not know, with a suggestion.
    pub fn unknown_key<'k>(
        &mut self,
        pos: Position,
        section: &str,
        name: &str,
        known: impl IntoIterator<Item = &'k str>,
    ) {
        let message = if section.is_empty() {
            format!("The following keys cannot be identified: {name}")
        } else {
            format!("In the section {section} The following keys cannot be identified: {name}")
        };
        self.warning(pos, &child_path(section, name), message);
        if let Some(help) = did_you_mean(name, known) {
            self.help(help);
        }
    }

    /// A scalar's text; `None` for null (absent) and, after an error, for lists and mappings.
    pub fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        match node.as_scalar() {
            Some(_) if node.is_null() => None,
            Some(s) => Some(s.text.clone()),
            None => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    /// A boolean written `yes/no/true/false/on/off` in any case, quoted or not; `None` for
    /// null and, after an error, for anything else.
    pub fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        if node.is_null() {
            return None;
        }
        match node.as_scalar().and_then(|s| s.as_bool_lenient()) {
            Some(b) => Some(b),
            None => {
                let found = match node.as_scalar() {
                    Some(s) => format!("`{}`", s.text),
                    None => node.kind_name().to_owned(),
                };
                self.error(
                    node.pos,
                    path,
                    format!("expected a boolean (yes/no/true/false/on/off), found {found}"),
                );
                None
            }
        }
    }

    /// A list of scalars as text. A single scalar is read as a one-item list, with a warning.
    pub fn text_list(&mut self, node: &Node, path: &str) -> Vec<String> {
        match &node.value {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let item_path = index_path(path, i);
                    match item.as_scalar() {
                        Some(_) if item.is_null() => {
                            self.wrong_type(item, &item_path, "a string");
                            None
                        }
                        Some(s) => Some(s.text.clone()),
                        None => {
                            self.wrong_type(item, &item_path, "a string");
                            None
                        }
                    }
                })
                .collect(),
            Value::Scalar(_) if node.is_null() => Vec::new(),
            Value::Scalar(s) => {
                self.warning(
                    node.pos,
                    path,
                    "expected a list of strings, found a string; it is read as a one-item list",
                );
                self.help(format!("write it as a list item: `- {}`", s.text));
                vec![s.text.clone()]
            }
            Value::Mapping(_) => {
                self.wrong_type(node, path, "a list of strings");
                Vec::new()
            }
        }
    }

    /// A mapping of names to scalar text (parameter names, secret references, runtimes).
    pub fn text_map(&mut self, node: &Node, path: &str) -> Vec<(String, String, Position)> {
        let Some(entries) = self.entries(node, path, "a mapping of names to strings") else {
            return Vec::new();
        };
        entries
            .into_iter()
            .filter_map(|(name, value, pos)| {
                let p = child_path(path, name);
                match value.as_scalar() {
                    Some(s) if !value.is_null() => {
                        Some((name.to_owned(), s.to_canonical_string(), pos))
                    }
                    _ => {
                        self.wrong_type(value, &p, "a string");
                        None
                    }
                }
            })
            .collect()
    }
}

/// How a plain scalar that YAML reads as something other than a string is described.
pub(super) fn non_string(node: &Node) -> Option<&'static str> {
    let s = node.as_scalar()?;
    if node.tag.as_deref().is_some_and(|t| t.ends_with(":str") || t == "!!str") {
        return None;
    }
    match s.resolve() {
        Resolved::Str => None,
        Resolved::Null => Some("empty"),
        Resolved::Bool(_) => Some("a boolean"),
        Resolved::Int(_) | Resolved::Float(_) => Some("a number"),
    }
}
