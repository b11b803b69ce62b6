//! Shell state between commands (buildspec 0.2): reading what the shell saved (`set`,
//! `export -p`) and writing the script that restores it before the next command.
//!
//! The shell prints its variables already quoted for itself; kiln never decodes them, it only
//! splits the output into entries (quote-aware, since values may span lines) and drops the
//! variables a shell must not be given back: read-only and shell-managed ones (`PPID`, `UID`,
//! `BASH_*`, `SHELLOPTS`, ...), `PWD` (the working directory is restored by starting the
//! shell there) and kiln's own helpers. What carries over [INF, spec §2.2]: the working
//! directory, exported and plain variables. Shell options (`set -e`), functions, aliases and
//! traps do not.

/// Variables never restored.
const SKIPPED: &[&str] = &[
    "_",
    "PPID",
    "PWD",
    "SHLVL",
    "UID",
    "EUID",
    "GROUPS",
    "SHELLOPTS",
    "BASHOPTS",
    "POSIXLY_CORRECT",
    "DIRSTACK",
    "FUNCNAME",
    "PIPESTATUS",
    "RANDOM",
    "SRANDOM",
    "SECONDS",
    "LINENO",
    "HISTCMD",
    "EPOCHSECONDS",
    "EPOCHREALTIME",
    "OPTIND",
    "COLUMNS",
    "LINES",
];

/// Whether `name` is restored after a command.
fn restorable(name: &str) -> bool {
    !(SKIPPED.contains(&name)
        || name.starts_with("BASH")
        || name.starts_with("COMP_")
        || name.starts_with("__kiln"))
        && is_identifier(name)
}

/// Whether `name` is a shell variable name.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Splits shell output into entries at newlines outside quotes.
pub fn split_entries(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Q {
        None,
        Single,
        Double,
        Dollar,
    }
    let bytes = text.as_bytes();
    let mut entries = Vec::new();
    let mut start = 0;
    let mut q = Q::None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match q {
            Q::None => match b {
                b'\\' => i += 1,
                b'\'' => q = Q::Single,
                b'"' => q = Q::Double,
                b'$' if bytes.get(i + 1) == Some(&b'\'') => {
                    q = Q::Dollar;
                    i += 1;
                }
                b'\n' => {
                    if i > start {
                        entries.push(&text[start..i]);
                    }
                    start = i + 1;
                }
                _ => {}
            },
            Q::Single if b == b'\'' => q = Q::None,
            Q::Double | Q::Dollar if b == b'\\' => i += 1,
            Q::Double if b == b'"' => q = Q::None,
            Q::Dollar if b == b'\'' => q = Q::None,
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        entries.push(&text[start..]);
    }
    entries
}

/// The name an entry of `set` (`NAME=value`) or `export -p` (`export NAME=...`,
/// `declare -x NAME=...`, `export NAME`) is about.
fn entry_name(entry: &str) -> &str {
    let rest = if let Some(r) = entry.strip_prefix("export ") {
        r
    } else if let Some(r) = entry.strip_prefix("declare ") {
        r.split_once(' ').map_or(r, |(_, r)| r)
    } else {
        entry
    };
    rest.split(['=', ' ']).next().unwrap_or("")
}

/// The restore script for the state saved by the previous command: its variables, which of
/// them are exported, then `overrides` (always exported; values quoted here).
pub fn restore_script(vars: &str, exports: &str, overrides: &[(String, String)]) -> String {
    let mut script = String::with_capacity(vars.len() + 256);
    for entry in split_entries(vars) {
        let name = entry_name(entry);
        if restorable(name) && entry.as_bytes().get(name.len()) == Some(&b'=') {
            script.push_str(entry);
            script.push('\n');
        }
    }
    let exported: Vec<&str> = split_entries(exports)
        .into_iter()
        .map(entry_name)
        .filter(|n| restorable(n) && !overrides.iter().any(|(o, _)| o == n))
        .collect();
    if !exported.is_empty() {
        script.push_str("export");
        for name in exported {
            script.push(' ');
            script.push_str(name);
        }
        script.push('\n');
    }
    for (name, value) in overrides {
        script.push_str(&format!("{name}={}; export {name}\n", quote(value)));
    }
    script
}

/// `value` in single quotes for any POSIX shell.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_multiline_values() {
        let text = "A='x\ny'\nB=$'a\\nb\\'c'\nC=\"q\\\"\nr\"\nD=plain\n";
        assert_eq!(
            split_entries(text),
            ["A='x\ny'", "B=$'a\\nb\\'c'", "C=\"q\\\"\nr\"", "D=plain"]
        );
    }

    #[test]
    fn restore_filters_and_exports() {
        let vars =
            "FOO='bar'\nPPID='1'\nBASH_VERSINFO=([0]=\"5\")\nPWD='/x'\nM='a\nb'\n__kiln_rc='0'\n";
        let exports = "export FOO='bar'\nexport PWD='/x'\ndeclare -x PATH=\"/bin\"\n";
        let overrides = vec![("CODEBUILD_BUILD_SUCCEEDING".to_owned(), "0".to_owned())];
        assert_eq!(
            restore_script(vars, exports, &overrides),
            "FOO='bar'\nM='a\nb'\nexport FOO PATH\nCODEBUILD_BUILD_SUCCEEDING='0'; export CODEBUILD_BUILD_SUCCEEDING\n"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
