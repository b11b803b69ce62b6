//! `phases`: phase names, commands that must be strings, and `on-failure`.

use crate::diagnostic::index_path;
use crate::yaml::{Node, Value};

use super::super::keys::{INSTALL, PHASE};
use super::super::model::{Command, OnFailure, Phase, PhaseName, Phases, SkippedCommand};
use super::super::suggest::did_you_mean;
use super::reader::{Reader, non_string};

/// The retries `RETRY` allows when it names no count.
const DEFAULT_RETRIES: u32 = 3;

/// The most retries `RETRY-<count>` allows.
const MAX_RETRIES: u32 = 100;

/// `phases`.
pub(super) fn read(r: &mut Reader, node: &Node, path: &str) -> Phases {
    let mut phases = Phases::default();
    let Some(entries) = r.entries(node, path, "a mapping of phase names") else {
        return phases;
    };
    for (name, value, pos) in entries {
        let Some(phase) = PhaseName::from_key(name) else {
            r.error(
                pos,
                &crate::diagnostic::child_path(path, name),
                format!(
                    "Invalid buildspec phase name: {}. Expecting: BUILD,INSTALL,POST_BUILD,PRE_BUILD",
                    name.to_uppercase()
                ),
            );
            let suggestion =
                super::super::suggest::closest(name, PhaseName::ALL.map(PhaseName::key));
            if let Some(key) = suggestion {
                r.help(format!("did you mean '{key}'?"));
            }
            // The contents are still checked, as the phase the name most likely means.
            let like = suggestion.and_then(PhaseName::from_key).unwrap_or(PhaseName::Build);
            read_phase(r, value, &crate::diagnostic::child_path(path, name), like);
            continue;
        };
        let phase_path = crate::diagnostic::child_path(path, name);
        *phases.get_mut(phase) = Some(read_phase(r, value, &phase_path, phase));
    }
    phases
}

fn read_phase(r: &mut Reader, node: &Node, path: &str, name: PhaseName) -> Phase {
    let keys = if name == PhaseName::Install { INSTALL } else { PHASE };
    let Some(sec) = r.section(node, path, keys) else {
        return Phase::default();
    };
    let mut phase = Phase {
        run_as: sec.get("run-as").and_then(|(n, p)| r.text(n, &p)),
        on_failure: sec.get("on-failure").and_then(|(n, p)| on_failure(r, n, &p)),
        ..Phase::default()
    };
    if let Some((n, p)) = sec.get("runtime-versions").filter(|_| name == PhaseName::Install) {
        phase.runtime_versions =
            r.text_map(n, &p).into_iter().map(|(name, version, _)| (name, version)).collect();
        if let Some(pos) = sec.key_pos("runtime-versions") {
            r.warning(
                pos,
                &p,
                "runtime-versions is ignored: kiln runs the project's image as it is",
            );
            r.help("install the runtimes the build needs in the image or in the install commands");
        }
    }
    if let Some((n, p)) = sec.get("commands") {
        (phase.commands, phase.skipped_commands) = commands(r, n, &p, "Commands");
    }
    if let Some((n, p)) = sec.get("finally") {
        (phase.finally, phase.skipped_finally) = commands(r, n, &p, "Finally");
    }
    phase
}

/// A list of commands. Every item must be a string: a plain scalar that YAML reads as a
/// boolean or a number is an error (as CodeBuild's `Expected Commands[0] to be of string
/// type`), and so is an item YAML read as a mapping because it contains `: `. An item YAML
/// reads as null (a bare `-`, `- # comment`, `- ~`) is skipped with a warning, as CodeBuild
/// skips it.
fn commands(
    r: &mut Reader,
    node: &Node,
    path: &str,
    label: &str,
) -> (Vec<Command>, Vec<SkippedCommand>) {
    let mut skipped = Vec::new();
    let items = match &node.value {
        Value::Sequence(items) => items,
        _ if node.is_null() => return (Vec::new(), skipped),
        Value::Scalar(s) => {
            r.error(node.pos, path, "expected a list of commands, found a string");
            let first = s.text.lines().next().unwrap_or_default();
            r.help(format!("write each command as a list item: `- {first}`"));
            return (Vec::new(), skipped);
        }
        Value::Mapping(_) => {
            r.wrong_type(node, path, "a list of commands");
            return (Vec::new(), skipped);
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = index_path(path, i);
        match &item.value {
            Value::Scalar(s) if item.is_null() && item.tag.is_none() => {
                let position = if s.text.is_empty() { r.dash_before(item.pos) } else { item.pos };
                let written = if s.text.is_empty() {
                    "this item".to_owned()
                } else {
                    format!("`{}`", s.text)
                };
                r.warning(
                    position,
                    &item_path,
                    format!(
                        "{label}[{i}] is empty: YAML reads {written} as null; CodeBuild skips it, and so does kiln"
                    ),
                );
                r.help("remove the item, or write the command after `- `");
                skipped.push(SkippedCommand { index: i, after: out.len(), position });
            }
            Value::Scalar(s) => {
                if let Some(kind) = non_string(item) {
                    r.error(
                        item.pos,
                        &item_path,
                        format!(
                            "Expected {label}[{i}] to be of string type: YAML reads `{}` as {kind}",
                            s.text
                        ),
                    );
                    if s.text.is_empty() {
                        r.help("remove the empty item or write the command after `- `");
                    } else {
                        r.help(format!("quote it: - \"{}\"", s.text));
                    }
                } else if s.text.contains('\0') {
                    r.error(
                        item.pos,
                        &item_path,
                        format!(
                            "{label}[{i}] contains a NUL character, which no shell can be given"
                        ),
                    );
                    r.help("remove the `\\0` escape from the command");
                } else {
                    out.push(Command { text: s.text.clone(), position: item.pos });
                }
            }
            Value::Mapping(entries) => {
                r.error(
                    item.pos,
                    &item_path,
                    format!("Expected {label}[{i}] to be of string type: YAML reads this command as a mapping"),
                );
                let written = match entries.as_slice() {
                    [e] => match (e.key.as_scalar(), e.value.as_scalar()) {
                        (Some(k), Some(v)) => format!(": - '{}: {}'", k.text, v.text),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                r.help(format!("the command contains `: `; quote the whole command{written}"));
            }
            Value::Sequence(_) => {
                r.error(
                    item.pos,
                    &item_path,
                    format!("Expected {label}[{i}] to be of string type, found a list"),
                );
                r.help("write each command as one list item");
            }
        }
    }
    (out, skipped)
}

/// `on-failure`: `ABORT`, `CONTINUE`, `RETRY`, `RETRY-<count>`, `RETRY-<regex>` or
/// `RETRY-<count>-<regex>`, keywords in upper case as CodeBuild writes them. Regexes use
/// the Rust `regex` dialect and must compile.
fn on_failure(r: &mut Reader, node: &Node, path: &str) -> Option<OnFailure> {
    let text = r.text(node, path)?;
    match parse_on_failure(&text) {
        Ok(value) => Some(value),
        Err(message) => {
            r.error(node.pos, path, message);
            let upper = text.to_uppercase();
            if parse_on_failure(&upper).is_ok() && upper != text {
                r.help(format!("did you mean '{upper}'?"));
            } else if let Some(help) = did_you_mean(&text, ["ABORT", "CONTINUE", "RETRY"]) {
                r.help(help);
            } else {
                r.help("use ABORT, CONTINUE, RETRY, RETRY-<count>, RETRY-<regex> or RETRY-<count>-<regex>");
            }
            None
        }
    }
}

fn parse_on_failure(text: &str) -> Result<OnFailure, String> {
    let invalid = || {
        format!(
            "invalid on-failure value `{text}`; expected ABORT, CONTINUE, RETRY, RETRY-<count>, RETRY-<regex> or RETRY-<count>-<regex>"
        )
    };
    match text {
        "ABORT" => return Ok(OnFailure::Abort),
        "CONTINUE" => return Ok(OnFailure::Continue),
        "RETRY" => return Ok(OnFailure::Retry { count: DEFAULT_RETRIES, pattern: None }),
        _ => {}
    }
    let rest = text.strip_prefix("RETRY-").ok_or_else(invalid)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (count, pattern) = if digits > 0 && digits == rest.len() {
        (Some(&rest[..digits]), None)
    } else if digits > 0 && rest.as_bytes().get(digits) == Some(&b'-') {
        (Some(&rest[..digits]), Some(&rest[digits + 1..]))
    } else {
        (None, Some(rest))
    };
    let count = match count {
        Some(c) => match c.parse::<u32>() {
            Ok(n) if n <= MAX_RETRIES => n,
            _ => {
                return Err(format!(
                    "invalid on-failure value `{text}`: the retry count {c} is not between 0 and {MAX_RETRIES}"
                ));
            }
        },
        None => DEFAULT_RETRIES,
    };
    if let Some(p) = pattern {
        if p.is_empty() {
            return Err(format!("invalid on-failure value `{text}`: the retry regex is empty"));
        }
        if let Err(e) = regex::Regex::new(p) {
            let detail = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
            return Err(format!(
                "invalid on-failure value `{text}`: the retry regex does not compile: {detail}"
            ));
        }
    }
    Ok(OnFailure::Retry { count, pattern: pattern.map(str::to_owned) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_failure_forms() {
        assert_eq!(parse_on_failure("ABORT"), Ok(OnFailure::Abort));
        assert_eq!(parse_on_failure("CONTINUE"), Ok(OnFailure::Continue));
        assert_eq!(parse_on_failure("RETRY"), Ok(OnFailure::Retry { count: 3, pattern: None }));
        assert_eq!(parse_on_failure("RETRY-0"), Ok(OnFailure::Retry { count: 0, pattern: None }));
        assert_eq!(
            parse_on_failure("RETRY-100"),
            Ok(OnFailure::Retry { count: 100, pattern: None })
        );
        assert_eq!(
            parse_on_failure("RETRY-5-timed out"),
            Ok(OnFailure::Retry { count: 5, pattern: Some("timed out".into()) })
        );
        assert_eq!(
            parse_on_failure("RETRY-[0-9]+ errors"),
            Ok(OnFailure::Retry { count: 3, pattern: Some("[0-9]+ errors".into()) })
        );
        assert_eq!(
            parse_on_failure("RETRY-12abc"),
            Ok(OnFailure::Retry { count: 3, pattern: Some("12abc".into()) })
        );
        assert!(parse_on_failure("RETRY-101").is_err());
        assert!(parse_on_failure("RETRY-2-(").is_err());
        assert!(parse_on_failure("RETRY-").is_err());
        assert!(parse_on_failure("abort").is_err());
        assert!(parse_on_failure("STOP").is_err());
    }
}
