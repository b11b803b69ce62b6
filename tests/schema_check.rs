//! A checker for the subset of JSON Schema draft-07 that `kiln schema` emits: `type`,
//! `enum`, `pattern`, `properties`, `additionalProperties`, `required`, `items`, `anyOf`
//! and `not`. Any other validation keyword fails the check, so the schema cannot grow a
//! keyword this checker silently ignores.

use serde_json::Value;

const ANNOTATIONS: &[&str] = &["$schema", "$id", "title", "description", "examples"];

/// Whether `value` satisfies `schema`; `Err` names a keyword this checker does not know.
pub fn is_valid(schema: &Value, value: &Value) -> Result<bool, String> {
    let Value::Object(map) = schema else {
        return Ok(schema.as_bool().unwrap_or(true));
    };
    for (keyword, arg) in map {
        let ok = match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => true,
            "type" => match arg {
                Value::String(t) => has_type(value, t),
                Value::Array(ts) => {
                    ts.iter().any(|t| t.as_str().is_some_and(|t| has_type(value, t)))
                }
                _ => return Err(format!("bad type {arg}")),
            },
            "enum" => arg.as_array().is_some_and(|vs| vs.contains(value)),
            "pattern" => match value {
                Value::String(s) => {
                    let re = regex::Regex::new(arg.as_str().unwrap_or_default())
                        .map_err(|e| e.to_string())?;
                    re.is_match(s)
                }
                _ => true,
            },
            "required" => match value {
                Value::Object(obj) => arg.as_array().is_some_and(|ks| {
                    ks.iter().all(|k| k.as_str().is_some_and(|k| obj.contains_key(k)))
                }),
                _ => true,
            },
            "properties" => match value {
                Value::Object(obj) => {
                    let mut ok = true;
                    for (k, v) in obj {
                        if let Some(sub) = arg.get(k) {
                            ok &= is_valid(sub, v)?;
                        }
                    }
                    ok
                }
                _ => true,
            },
            "additionalProperties" => match value {
                Value::Object(obj) => {
                    let props = map.get("properties");
                    let mut ok = true;
                    for (k, v) in obj {
                        if props.and_then(|p| p.get(k)).is_none() {
                            ok &= is_valid(arg, v)?;
                        }
                    }
                    ok
                }
                _ => true,
            },
            "items" => match value {
                Value::Array(items) => {
                    let mut ok = true;
                    for item in items {
                        ok &= is_valid(arg, item)?;
                    }
                    ok
                }
                _ => true,
            },
            "anyOf" => {
                let mut any = false;
                for sub in arg.as_array().into_iter().flatten() {
                    any |= is_valid(sub, value)?;
                }
                any
            }
            "not" => !is_valid(arg, value)?,
            other => return Err(format!("the checker does not know the keyword `{other}`")),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}
