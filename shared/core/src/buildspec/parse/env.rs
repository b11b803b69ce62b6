//! `env` and `proxy`: variables turned into strings as CodeBuild does, secret references,
//! reserved and repeated names.

use crate::diagnostic::{Position, child_path, index_path};
use crate::yaml::{Node, Resolved};

use super::super::keys::{ENV, LEGACY_ENV, PROXY};
use super::super::model::{Env, Proxy, SecretRef, Shell, Version};
use super::reader::Reader;

/// `env`.
pub(super) fn read(r: &mut Reader, node: &Node, path: &str) -> Env {
    let Some(sec) = r.section(node, path, ENV) else {
        return Env::default();
    };
    let mut env = Env::default();
    let mut seen: Vec<(String, &'static str)> = Vec::new();
    let mut check_seen = |r: &mut Reader,
                          name: &str,
                          pos: Position,
                          map: &'static str,
                          path: &str| {
        if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
            r.warning(
                pos,
                &child_path(path, name),
                format!("`{name}` is also defined in env.{first}; which value wins is undefined"),
            );
            r.help("define each variable in one of env.variables, env.parameter-store and env.secrets-manager");
        } else {
            seen.push((name.to_owned(), map));
        }
    };
    if let Some((n, p)) = sec.get("shell") {
        env.shell = shell(r, n, &p);
    }
    if let Some((n, p)) = sec.get("variables") {
        for (name, value, pos) in variables(r, n, &p) {
            check_seen(r, &name, pos, "variables", &p);
            env.variables.push((name, value));
        }
    }
    if let Some((n, p)) = sec.get("parameter-store") {
        for (name, value, pos) in r.text_map(n, &p) {
            if reserved(r, &name, pos, &p) {
                continue;
            }
            check_seen(r, &name, pos, "parameter-store", &p);
            env.parameter_store.push((name, value));
        }
    }
    if let Some((n, p)) = sec.get("secrets-manager") {
        let values =
            r.entries(n, &p, "a mapping of names to secret references").unwrap_or_default();
        for (name, value, pos) in values {
            if reserved(r, name, pos, &p) {
                continue;
            }
            check_seen(r, name, pos, "secrets-manager", &p);
            let item_path = child_path(&p, name);
            let Some(text) = value.as_scalar().filter(|_| !value.is_null()).map(|s| s.text.clone())
            else {
                r.wrong_type(value, &item_path, "a secret reference");
                continue;
            };
            match SecretRef::parse(&text) {
                Ok(secret) => env.secrets_manager.push((name.to_owned(), secret)),
                Err(e) => {
                    r.error(value.pos, &item_path, e.to_string());
                    r.help("write secret-id:json-key:version-stage:version-id, leaving unused parts empty");
                }
            }
        }
    }
    if let Some((n, p)) = sec.get("exported-variables") {
        env.exported_variables = r.text_list(n, &p);
        for (i, item) in n.as_sequence().unwrap_or_default().iter().enumerate() {
            let Some(name) = item.as_scalar().map(|s| s.text.as_str()) else { continue };
            if name.starts_with("AWS_") {
                r.warning(
                    item.pos,
                    &index_path(&p, i),
                    format!("`{name}`: variables whose names start with AWS_ cannot be exported; it is not recorded"),
                );
            }
        }
        env.exported_variables.retain(|name| !name.starts_with("AWS_"));
    }
    if let Some((n, p)) = sec.get("git-credential-helper") {
        env.git_credential_helper = r.boolean(n, &p).unwrap_or(false);
    }
    env
}

/// `environment_variables` (`plaintext`), added to `env.variables`.
///
/// The first buildspec format wrote `environment_variables: plaintext:` for what 0.2 calls
/// `env: variables:`. Real files of both versions use it, so it is read the same way; in a 0.2
/// file with a warning. A name that `env` also defines keeps its `env` value.
pub(super) fn legacy(r: &mut Reader, node: &Node, path: &str, at: Position, env: &mut Env) {
    let Some(sec) = r.section(node, path, LEGACY_ENV) else {
        return;
    };
    if r.version == Version::V0_2 {
        r.warning(
            at,
            path,
            "`environment_variables.plaintext` is the version 0.1 spelling of `env.variables`; it is read as `env.variables`",
        );
        r.help("write `env:` with `variables:` under it");
    }
    let Some((n, p)) = sec.get("plaintext") else {
        return;
    };
    for (name, value, pos) in variables(r, n, &p) {
        let defined = env.variables.iter().map(|(v, _)| v);
        let in_env = defined
            .chain(env.parameter_store.iter().map(|(v, _)| v))
            .chain(env.secrets_manager.iter().map(|(v, _)| v))
            .any(|v| *v == name);
        if in_env {
            r.warning(
                pos,
                &child_path(&p, &name),
                format!("`{name}` is also defined in env; the env value is used"),
            );
        } else {
            env.variables.push((name, value));
        }
    }
}

/// `proxy`.
pub(super) fn proxy(r: &mut Reader, node: &Node, path: &str) -> Proxy {
    let Some(sec) = r.section(node, path, PROXY) else {
        return Proxy::default();
    };
    let mut flag = |name: &str| sec.get(name).and_then(|(n, p)| r.boolean(n, &p)).unwrap_or(false);
    Proxy { upload_artifacts: flag("upload-artifacts"), logs: flag("logs") }
}

fn shell(r: &mut Reader, node: &Node, path: &str) -> Option<Shell> {
    let text = r.text(node, path)?;
    let shell = match text.as_str() {
        "sh" | "/bin/sh" => Shell::Sh,
        "bash" | "/bin/bash" => Shell::Bash,
        "powershell.exe" | "pwsh.exe" => Shell::PowerShell,
        "cmd.exe" => Shell::Cmd,
        _ => {
            r.error(
                node.pos,
                path,
                format!(
                    "unknown shell `{text}`; expected bash, /bin/sh, powershell.exe or cmd.exe"
                ),
            );
            if let Some(help) = super::super::suggest::did_you_mean(
                &text,
                super::super::keys::SHELLS.iter().copied(),
            ) {
                r.help(help);
            }
            return None;
        }
    };
    Some(shell)
}

/// Warns about and skips a `CODEBUILD_` name: those are reserved for the build itself.
pub(super) fn reserved(r: &mut Reader, name: &str, pos: Position, path: &str) -> bool {
    if !name.starts_with("CODEBUILD_") {
        return false;
    }
    r.warning(
        pos,
        &child_path(path, name),
        format!("`{name}`: names starting with CODEBUILD_ are reserved; the variable is ignored"),
    );
    r.help("rename the variable");
    true
}

/// Variables: names to scalars, turned into strings as CodeBuild does (`yes` → `true`,
/// `3.10` → `3.1`), with a warning when that changes the text as written.
pub(super) fn variables(
    r: &mut Reader,
    node: &Node,
    path: &str,
) -> Vec<(String, String, Position)> {
    let Some(entries) = r.entries(node, path, "a mapping of variable names to values") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value, pos) in entries {
        if reserved(r, name, pos, path) || nul_in_name(r, name, pos, path) {
            continue;
        }
        let item_path = child_path(path, name);
        if let Some(text) = variable_value(r, value, &item_path) {
            out.push((name.to_owned(), text, pos));
        }
    }
    out
}

/// Reports a variable name with a NUL character: no process environment can hold it.
pub(super) fn nul_in_name(r: &mut Reader, name: &str, pos: Position, path: &str) -> bool {
    if !name.contains('\0') {
        return false;
    }
    r.error(
        pos,
        &child_path(path, &name.escape_debug().to_string()),
        format!(
            "the variable name {name:?} contains a NUL character, which no environment can hold"
        ),
    );
    true
}

/// One variable value as a string, with warnings for changed text and `$VAR` references;
/// `None`, after an error, for a value that is not a scalar or holds a NUL character (no
/// process environment can hold one: every command of the build would fail to start).
pub(super) fn variable_value(r: &mut Reader, value: &Node, path: &str) -> Option<String> {
    let Some(scalar) = value.as_scalar() else {
        r.wrong_type(value, path, "a string, a number or a boolean");
        return None;
    };
    if let Some(at) = scalar.text.find('\0') {
        r.error(
            value.pos,
            path,
            format!(
                "the value contains a NUL character (at byte {at}), which no environment can hold"
            ),
        );
        r.help("remove the `\\0` escape from the value");
        return None;
    }
    let text = scalar.to_canonical_string();
    if text != scalar.text {
        let message = match scalar.resolve() {
            Resolved::Bool(_) => {
                format!("`{}` is read as a boolean, so the value is `{text}`", scalar.text)
            }
            Resolved::Null => format!("`{}` is read as null, so the value is empty", scalar.text),
            _ => format!("`{}` is read as a number, so the value is `{text}`", scalar.text),
        };
        r.warning(value.pos, path, message);
        r.help(format!("quote it to keep the text: \"{}\"", scalar.text));
    } else if let Some(reference) = dollar_reference(&text) {
        r.warning(
            value.pos,
            path,
            format!("`{reference}` is not expanded in env.variables; the value is taken literally"),
        );
        r.help("expand it in a command instead, e.g. `export NAME=\"...\"` in the install phase");
    }
    Some(text)
}

/// The first `$NAME` or `${NAME}` in a value.
fn dollar_reference(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(off) = text[i..].find('$') {
        let start = i + off;
        let rest = &bytes[start + 1..];
        if rest.first() == Some(&b'{')
            && let Some(close) = text[start..].find('}')
        {
            return Some(&text[start..start + close + 1]);
        }
        let len = rest.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
        if len > 0 && !rest[0].is_ascii_digit() {
            return Some(&text[start..start + 1 + len]);
        }
        i = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs_split_from_arns() {
        let s = SecretRef::parse(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password",
        )
        .expect("valid");
        assert_eq!(s.secret_id, "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf");
        assert_eq!(s.json_key.as_deref(), Some("password"));
        let s = SecretRef::parse("prod/db::AWSPREVIOUS").expect("valid");
        assert_eq!(
            (s.secret_id.as_str(), s.json_key, s.version_stage.as_deref()),
            ("prod/db", None, Some("AWSPREVIOUS"))
        );
        let s = SecretRef::parse("prod/db:::v1").expect("valid");
        assert_eq!(s.version_id.as_deref(), Some("v1"));
        assert!(SecretRef::parse("prod/db::AWSCURRENT:v1").is_err());
        assert!(SecretRef::parse(":key").is_err());
        assert!(SecretRef::parse("a:b:c:d:e").is_err());
    }

    #[test]
    fn dollar_references() {
        assert_eq!(dollar_reference("$PATH:/x"), Some("$PATH"));
        assert_eq!(dollar_reference("a ${HOME}/b"), Some("${HOME}"));
        assert_eq!(dollar_reference("costs $5"), None);
        assert_eq!(dollar_reference("plain"), None);
    }
}
