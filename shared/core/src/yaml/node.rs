//! The nodes of a YAML tree and what a plain scalar means under YAML 1.1 rules.

use crate::diagnostic::Position;

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
    if is_float(&cleaned)
        && let Ok(f) = cleaned.parse::<f64>()
    {
        return Resolved::Float(f);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
