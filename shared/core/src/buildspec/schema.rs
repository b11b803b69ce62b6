//! The JSON Schema (draft-07) of buildspec.yml that `kiln schema` prints for editors
//! (yaml-language-server), generated from the key tables in [`super::keys`] so that the
//! parser and the schema know the same keys.
//!
//! The schema describes the document as kiln's parser reads it: unknown keys are allowed
//! (the parser only warns about them), values the parser accepts with a warning (a single
//! string where a list is expected, numbers as variable values) are allowed, and what the
//! parser rejects for its type or spelling is rejected. Checks that need the whole file
//! (`depend-on` targets, cycles, RETRY regexes, secret references) are the parser's alone.

use serde_json::{Map, Value, json};

use super::keys::{INSTALL, Key, PHASE, Shape, TOP};
use super::model::PhaseName;

/// The schema's `$id`: where the committed copy is published.
pub const SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/kiln-ci/kiln/main/schema/buildspec.schema.json";

/// The JSON Schema of buildspec.yml.
pub fn json_schema() -> Value {
    let mut root = section(TOP, false);
    if let Value::Object(map) = &mut root {
        let mut head = Map::new();
        head.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
        head.insert("$id".into(), json!(SCHEMA_ID));
        head.insert("title".into(), json!("buildspec.yml"));
        head.insert(
            "description".into(),
            json!("A CodeBuild buildspec, as kiln reads it (versions 0.1 and 0.2)."),
        );
        head.insert("type".into(), json!("object"));
        map.remove("type");
        head.extend(std::mem::take(map));
        head.insert("anyOf".into(), json!([{"required": ["phases"]}, {"required": ["batch"]}]));
        *map = head;
    }
    root
}

/// The scalar types a text value may have once YAML 1.1 resolved it.
fn scalar_types(nullable: bool) -> Value {
    if nullable {
        json!(["string", "number", "boolean", "null"])
    } else {
        json!(["string", "number", "boolean"])
    }
}

/// A pattern matching `words` in any case: `JUNITXML` → `[Jj][Uu]...`.
fn any_case_pattern(words: &[&str]) -> String {
    let alternatives: Vec<String> = words
        .iter()
        .map(|w| {
            w.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                    } else if c.is_ascii_alphanumeric() {
                        c.to_string()
                    } else {
                        format!("\\{c}")
                    }
                })
                .collect()
        })
        .collect();
    format!("^(?:{})$", alternatives.join("|"))
}

fn shape(shape: Shape) -> Value {
    match shape {
        Shape::Text => json!({"type": scalar_types(true)}),
        Shape::Bool => json!({"anyOf": [
            {"type": ["boolean", "null"]},
            {"type": "string", "pattern": any_case_pattern(&["yes", "no", "true", "false", "on", "off", "y", "n"])},
        ]}),
        Shape::Version => json!({"anyOf": [
            {"type": "number", "enum": [0.1, 0.2]},
            {"type": "string", "pattern": "^0*\\.[12]0*$"},
        ]}),
        Shape::Word { words, any_case: false } => {
            let mut values: Vec<Value> = words.iter().map(|w| json!(w)).collect();
            values.push(Value::Null);
            json!({"enum": values})
        }
        Shape::Word { words, any_case: true } => json!({"anyOf": [
            {"type": "null"},
            {"type": "string", "pattern": any_case_pattern(words), "examples": words},
        ]}),
        Shape::TextList => json!({"anyOf": [
            {"type": "array", "items": {"type": scalar_types(false)}},
            {"type": scalar_types(true)},
        ]}),
        // A null item (a bare `-`) is skipped with a warning, as CodeBuild skips it.
        Shape::Commands => {
            json!({"type": ["array", "null"], "items": {"type": ["string", "null"]}})
        }
        Shape::OnFailure => json!({
            "type": ["string", "null"],
            "pattern": "^(?:ABORT|CONTINUE|RETRY(?:-.+)?)$",
            "examples": ["ABORT", "CONTINUE", "RETRY", "RETRY-5", "RETRY-5-timed out"],
        }),
        Shape::Variables => json!({
            "type": ["object", "null"],
            "additionalProperties": {"type": scalar_types(true)},
        }),
        Shape::TextMap => json!({
            "type": ["object", "null"],
            "additionalProperties": {"type": scalar_types(false)},
        }),
        Shape::ListMap => json!({
            "type": ["object", "null"],
            "additionalProperties": {"anyOf": [
                {"type": "array", "items": {"type": scalar_types(true)}},
                {"type": scalar_types(true)},
            ]},
        }),
        Shape::Section(keys) => section(keys, !keys.iter().any(|k| k.required)),
        Shape::NamedSections(keys) => json!({
            "type": ["object", "null"],
            "additionalProperties": section(keys, false),
        }),
        Shape::SectionList(keys) => {
            json!({"type": ["array", "null"], "items": section(keys, false)})
        }
        Shape::SectionOrList(keys) => json!({"anyOf": [
            section(keys, true),
            {"type": "array", "items": section(keys, false)},
        ]}),
        Shape::Phases => {
            let mut properties = Map::new();
            for phase in PhaseName::ALL {
                let keys = if phase == PhaseName::Install { INSTALL } else { PHASE };
                let mut schema = section(keys, true);
                describe(&mut schema, &format!("The {} phase.", phase.key()));
                properties.insert(phase.key().into(), schema);
            }
            json!({"type": ["object", "null"], "properties": properties, "additionalProperties": false})
        }
    }
}

/// A mapping with `keys`; `nullable` when an empty value means the same as no section.
fn section(keys: &'static [Key], nullable: bool) -> Value {
    let mut properties = Map::new();
    for key in keys {
        let mut schema = shape(key.shape);
        // An empty top-level section is the same as none (`artifacts:` with nothing under it).
        if std::ptr::eq(keys, TOP) && key.name != "version" {
            schema = json!({"anyOf": [{"type": "null"}, schema]});
        }
        describe(&mut schema, key.doc);
        properties.insert(key.name.into(), schema);
    }
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    let mut out = json!({
        "type": if nullable { json!(["object", "null"]) } else { json!("object") },
        "properties": properties,
    });
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    if keys.iter().any(|k| k.name == "build-list") {
        out["not"] = json!({"anyOf": [
            {"required": ["build-list", "build-graph"]},
            {"required": ["build-list", "build-matrix"]},
            {"required": ["build-graph", "build-matrix"]},
        ]});
    }
    out
}

fn describe(schema: &mut Value, doc: &str) {
    if let Value::Object(map) = schema {
        map.insert("description".into(), json!(doc));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_top_level_key_is_described() {
        let schema = json_schema();
        for key in TOP {
            assert!(schema["properties"][key.name]["description"].is_string(), "{}", key.name);
        }
        assert_eq!(schema["required"], json!(["version"]));
        assert_eq!(
            schema["properties"]["phases"]["anyOf"][1]["additionalProperties"],
            json!(false)
        );
    }

    #[test]
    fn any_case_patterns() {
        assert_eq!(any_case_pattern(&["on", "n"]), "^(?:[Oo][Nn]|[Nn])$");
        assert_eq!(any_case_pattern(&["NUNIT3XML"]), "^(?:[Nn][Uu][Nn][Ii][Tt]3[Xx][Mm][Ll])$");
    }
}
