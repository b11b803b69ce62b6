//! GitHub's OpenAPI description (`@octokit/openapi`): finding the operation of a request by
//! method and path template, and checking its query parameters and JSON body against it with
//! the JSON Schema subset GitHub's description uses.
//!
//! Checked: `$ref`, `type` (with OpenAPI 3.0's `nullable`), `enum`, `properties`, `required`,
//! `additionalProperties`, `items`, `minItems`/`maxItems`, `minLength`/`maxLength`,
//! `pattern`, `minimum`/`maximum`, `allOf`, `anyOf`, `oneOf`. `oneOf` is checked as `anyOf`:
//! some of GitHub's alternatives overlap (a string, and a string of an enum), so "exactly
//! one" would refuse bodies GitHub takes. `format` is not checked.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// The version of `@octokit/openapi` `scripts/test` installs.
pub const OPENAPI_PACKAGE: &str = "@octokit/openapi@23.0.2";

/// Where the description is looked for: `KILN_GITHUB_OPENAPI`, else the workspace's
/// `.tools/npm/node_modules/@octokit/openapi/generated/api.github.com.json`.
pub fn spec_path() -> PathBuf {
    if let Some(path) = std::env::var_os("KILN_GITHUB_OPENAPI") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.tools/npm/node_modules/@octokit/openapi/generated/api.github.com.json")
}

/// The description, with its paths indexed by method.
#[derive(Debug)]
pub(crate) struct Spec {
    root: Value,
    /// method (lower case) → (template segments, template).
    paths: HashMap<String, Vec<(Vec<String>, String)>>,
}

/// What a request is in the description.
#[derive(Debug)]
pub(crate) struct Operation<'a> {
    spec: &'a Spec,
    op: &'a Value,
    item: &'a Value,
}

/// The description, loaded once per process: `None` (with a warning) when it is absent and
/// `CI` is not `true`.
///
/// # Panics
/// When it is absent and `CI=true`, or when it is not JSON.
pub(crate) fn spec() -> Option<Arc<Spec>> {
    static SPEC: OnceLock<Option<Arc<Spec>>> = OnceLock::new();
    SPEC.get_or_init(|| {
        load(&spec_path(), std::env::var("CI").as_deref() == Ok("true")).map(Arc::new)
    })
    .clone()
}

/// The description at `path`; when it is absent, a panic if `ci`, else a warning and `None`.
fn load(path: &std::path::Path, ci: bool) -> Option<Spec> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) => {
            let message = format!(
                "GitHub's OpenAPI description is not at {} ({e}); scripts/test installs it \
                 (npm install --prefix .tools/npm {OPENAPI_PACKAGE})",
                path.display()
            );
            assert!(!ci, "{message}");
            eprintln!("warning: {message}: requests to the fake github are not checked");
            return None;
        }
    };
    let root: Value = serde_json::from_slice(&text).unwrap_or_else(|e| {
        panic!("GitHub's OpenAPI description {} is not JSON: {e}", path.display())
    });
    Some(Spec::new(root))
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl Spec {
    fn new(root: Value) -> Self {
        let mut paths: HashMap<String, Vec<(Vec<String>, String)>> = HashMap::new();
        if let Some(items) = root.get("paths").and_then(Value::as_object) {
            for (template, item) in items {
                for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
                    paths
                        .entry(method.clone())
                        .or_default()
                        .push((segments(template), template.clone()));
                }
            }
        }
        Self { root, paths }
    }

    /// The operation `method path` is, if any: the template matching segment by segment with
    /// the most literal segments; a template ending in `{path}` or `{ref}` takes the rest of
    /// the path (`/contents/{path}`) only when none matches exactly.
    pub(crate) fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let wanted = segments(path);
        let candidates = self.paths.get(&method.to_ascii_lowercase())?;
        let mut best: Option<(bool, usize, &str)> = None;
        for (template, name) in candidates {
            let Some((exact, literals)) = matches(template, &wanted) else { continue };
            if best.is_none_or(|(e, l, _)| (exact, literals) > (e, l)) {
                best = Some((exact, literals, name));
            }
        }
        let (_, _, template) = best?;
        let item = self.root.get("paths")?.get(template)?;
        let op = item.get(method.to_ascii_lowercase())?;
        Some(Operation { spec: self, op, item })
    }

    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else { break };
            let Some(target) = reference.strip_prefix('#').and_then(|p| self.root.pointer(p))
            else {
                break;
            };
            schema = target;
        }
        schema
    }
}

/// The parameters whose values may hold `/` (a file's path, a ref such as `heads/main`).
const SLASHED_PARAMS: [&str; 2] = ["{path}", "{ref}"];

/// Whether `template` matches `path`: `(exact, literal segments)`.
fn matches(template: &[String], path: &[String]) -> Option<(bool, usize)> {
    let is_param = |s: &str| s.starts_with('{') && s.ends_with('}');
    let exact = template.len() == path.len();
    let greedy = !exact
        && path.len() > template.len()
        && template.last().is_some_and(|s| SLASHED_PARAMS.contains(&s.as_str()));
    if !exact && !greedy {
        return None;
    }
    let mut literals = 0;
    for (t, p) in template.iter().zip(path) {
        if is_param(t) {
            continue;
        }
        if t != p {
            return None;
        }
        literals += 1;
    }
    Some((exact, literals))
}

impl Operation<'_> {
    /// Problems with the query parameters: names the operation does not take.
    pub(crate) fn check_query(&self, query: Option<&str>) -> Vec<String> {
        let params: Vec<&Value> = [self.item, self.op]
            .iter()
            .filter_map(|v| v.get("parameters").and_then(Value::as_array))
            .flatten()
            .map(|p| self.spec.resolve(p))
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
            .collect();
        let mut problems = Vec::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let Some(param) =
                params.iter().find(|p| p.get("name").and_then(Value::as_str) == Some(&name))
            else {
                problems.push(format!("query parameter {name:?} is not one the operation takes"));
                continue;
            };
            if let Some(schema) = param.get("schema") {
                let schema = self.spec.resolve(schema);
                let value = match schema.get("type").and_then(Value::as_str) {
                    Some("integer") => match value.parse::<i64>() {
                        Ok(n) => Value::from(n),
                        Err(_) => {
                            problems.push(format!(
                                "query parameter {name}={value:?} is not an integer"
                            ));
                            continue;
                        }
                    },
                    _ => Value::from(value.as_ref()),
                };
                self.spec.check(schema, &value, &format!("?{name}"), &mut problems);
            }
        }
        problems
    }

    /// Problems with the body: missing when required, not JSON, or not of the schema.
    pub(crate) fn check_body(&self, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
        let Some(request_body) = self.op.get("requestBody").map(|b| self.spec.resolve(b)) else {
            return if body.is_empty() {
                vec![]
            } else {
                vec!["the operation takes no body".into()]
            };
        };
        if body.is_empty() {
            let required = request_body.get("required").and_then(Value::as_bool) == Some(true);
            return if required { vec!["the operation requires a body".into()] } else { vec![] };
        }
        let Some(schema) = request_body.pointer("/content/application~1json/schema") else {
            return vec![];
        };
        if !content_type.is_some_and(|c| c.starts_with("application/json")) {
            return vec![format!("content-type {content_type:?} is not application/json")];
        }
        let value: Value = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(e) => return vec![format!("the body is not json: {e}")],
        };
        let mut problems = Vec::new();
        self.spec.check(schema, &value, "$", &mut problems);
        problems
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Spec {
    /// Adds to `problems` what is wrong with `value` at `at` under `schema`.
    fn check(&self, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
        let schema = self.resolve(schema);
        for sub in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.check(sub, value, at, problems);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
                let fits = alternatives.iter().any(|alt| {
                    let mut p = Vec::new();
                    self.check(alt, value, at, &mut p);
                    p.is_empty()
                });
                if !fits {
                    problems.push(format!("{at}: matches none of the {key} alternatives"));
                }
            }
        }
        if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
            return;
        }
        let actual = type_of(value);
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let type_ok = types.is_empty()
            || types.iter().any(|t| *t == actual || (*t == "number" && actual == "integer"));
        if !type_ok {
            problems.push(format!("{at}: is {actual}, expected {}", types.join(" or ")));
            return;
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array)
            && !choices.contains(value)
        {
            problems.push(format!("{at}: {value} is not one of {}", Value::Array(choices.clone())));
        }
        let limit = |key: &str| {
            schema.get(key).and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok())
        };
        match value {
            Value::String(s) => {
                let chars = s.chars().count();
                if limit("maxLength").is_some_and(|max| chars > max) {
                    problems.push(format!(
                        "{at}: longer than {} characters",
                        limit("maxLength").unwrap_or(0)
                    ));
                }
                if limit("minLength").is_some_and(|min| chars < min) {
                    problems.push(format!(
                        "{at}: shorter than {} characters",
                        limit("minLength").unwrap_or(0)
                    ));
                }
                let pattern = schema
                    .get("pattern")
                    .and_then(Value::as_str)
                    .and_then(|p| regex::Regex::new(p).ok());
                if pattern.is_some_and(|re| !re.is_match(s)) {
                    problems.push(format!("{at}: does not match the pattern of the field"));
                }
            }
            Value::Number(n) => {
                let n = n.as_f64().unwrap_or(0.0);
                if schema.get("minimum").and_then(Value::as_f64).is_some_and(|m| n < m) {
                    problems.push(format!("{at}: below the minimum"));
                }
                if schema.get("maximum").and_then(Value::as_f64).is_some_and(|m| n > m) {
                    problems.push(format!("{at}: above the maximum"));
                }
            }
            Value::Array(items) => {
                if limit("maxItems").is_some_and(|max| items.len() > max) {
                    problems.push(format!("{at}: more items than allowed"));
                }
                if limit("minItems").is_some_and(|min| items.len() < min) {
                    problems.push(format!("{at}: fewer items than required"));
                }
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{at}[{i}]"), problems);
                    }
                }
            }
            Value::Object(map) => self.check_object(schema, map, at, problems),
            Value::Null | Value::Bool(_) => {}
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        at: &str,
        problems: &mut Vec<String>,
    ) {
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = name.as_str()
                && !map.contains_key(name)
            {
                problems.push(format!("{at}: required field {name:?} is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, field) in map {
            let at = format!("{at}.{key}");
            match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
                (Some(sub), _) => self.check(sub, field, &at, problems),
                (None, Some(Value::Bool(false))) => {
                    problems.push(format!("{at}: not a field of the schema"))
                }
                (None, Some(extra @ Value::Object(_))) => self.check(extra, field, &at, problems),
                (None, _) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tiny() -> Spec {
        Spec::new(json!({
            "paths": {
                "/repos/{owner}/{repo}/statuses/{sha}": {"post": {"requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["state"],
                    "properties": {"state": {"type": "string", "enum": ["pending", "success"]}, "target_url": {"type": "string", "nullable": true},
                                   "perms": {"$ref": "#/components/schemas/perms"}}
                }}}}}},
                "/repos/{owner}/{repo}/contents/{path}": {"get": {"parameters": [{"name": "ref", "in": "query", "schema": {"type": "string"}}]}},
                "/repos/{owner}/{repo}/contents/README": {"get": {}}
            },
            "components": {"schemas": {"perms": {"type": "object", "additionalProperties": false, "properties": {"contents": {"type": "string", "enum": ["read", "write"]}}}}}
        }))
    }

    #[test]
    fn operations_are_found_by_template() {
        let spec = tiny();
        assert!(spec.operation("POST", "/repos/o/r/statuses/abc").is_some());
        assert!(spec.operation("GET", "/repos/o/r/statuses/abc").is_none());
        assert!(spec.operation("GET", "/repos/o/r/contents/a/b/c.yml").is_some());
        assert!(spec.operation("GET", "/repos/o/r/nothing").is_none());
        assert!(spec.operation("POST", "/repos/o/r/statuses/abc/more").is_none());
    }

    #[test]
    fn bodies_are_checked() {
        let spec = tiny();
        let op = spec.operation("POST", "/repos/o/r/statuses/abc").expect("the statuses operation");
        let check =
            |body: Value| op.check_body(Some("application/json"), body.to_string().as_bytes());
        assert!(check(json!({"state": "pending", "target_url": null})).is_empty());
        assert_eq!(check(json!({"state": "done"})).len(), 1);
        assert_eq!(
            check(json!({"target_url": "x"})),
            vec![r#"$: required field "state" is missing"#]
        );
        assert_eq!(
            check(json!({"state": "success", "perms": {"contents": "read", "x": "y"}})),
            vec!["$.perms.x: not a field of the schema"]
        );
        assert_eq!(check(json!({"state": 1})), vec!["$.state: is integer, expected string"]);
        assert_eq!(
            op.check_body(Some("application/json"), b""),
            vec!["the operation requires a body"]
        );
    }

    #[test]
    fn a_missing_description_fails_on_ci_and_is_skipped_elsewhere() {
        let missing = std::path::Path::new("/nonexistent/api.github.com.json");
        assert!(load(missing, false).is_none());
        let on_ci = std::panic::catch_unwind(|| load(missing, true)).expect_err("it panics");
        let message = on_ci.downcast_ref::<String>().expect("a panic message");
        assert!(
            message.contains("scripts/test installs it") && message.contains(OPENAPI_PACKAGE),
            "{message}"
        );
    }

    #[test]
    fn scripts_test_installs_this_version() {
        let script = include_str!("../../../scripts/test");
        let version = OPENAPI_PACKAGE.rsplit('@').next().expect("a status line");
        assert!(
            script.contains(&format!("openapi_version={version}\n")),
            "scripts/test installs another version"
        );
    }

    #[test]
    fn query_parameters_are_checked() {
        let spec = tiny();
        let op =
            spec.operation("GET", "/repos/o/r/contents/a.yml").expect("the contents operation");
        assert!(op.check_query(Some("ref=abc")).is_empty());
        assert_eq!(op.check_query(Some("reff=abc")).len(), 1);
    }
}
