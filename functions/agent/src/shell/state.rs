//! Shell state between commands (buildspec 0.2), held in kiln's memory: reading the frame a
//! command's shell wrote on its state pipe (`set`, `export -p`), and writing the script that
//! restores it before the next command.
//!
//! The shell's text never reaches another shell: every entry is decoded into a name and a raw
//! value ([`super::decode`]), names are checked, and the restore script is written by kiln with
//! every value in single quotes. An entry kiln cannot decode is dropped. So whatever a command
//! (run as any user) prints on the state pipe, the next command only ever gets `NAME='value'`
//! assignments and `export NAME` lines: variables, never code.
//!
//! What carries over [INF, spec §2.2]: the working directory (`PWD`), exported and plain
//! variables, bash's indexed arrays. Read-only and shell-managed variables (`PPID`, `UID`,
//! `BASH_*`, `SHELLOPTS`, ...), `PWD` itself (the next shell starts there) and kiln's helpers
//! are not restored; shell options (`set -e`), functions, aliases, traps and associative arrays
//! do not carry over.

use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use super::decode::{self, Value};

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

/// `value` in single quotes for any POSIX shell.
pub fn quote(value: &str) -> String {
    let mut out = Vec::with_capacity(value.len() + 2);
    quote_into(value.as_bytes(), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `value` in single quotes (a quote as `'\''`): literal for every shell, whatever the
/// bytes, since a value holds no NUL.
fn quote_into(value: &[u8], out: &mut Vec<u8>) {
    out.push(b'\'');
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
}

/// The state a command left: its variables, which names are exported, its working directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Every variable `set` printed that could be decoded, in its order.
    pub vars: Vec<(String, Value)>,
    /// The exported names (some may be unset).
    pub exported: Vec<String>,
    /// `PWD`, when it was set.
    pub cwd: Option<PathBuf>,
    /// Names whose entries could not be decoded (dropped).
    pub dropped: Vec<String>,
}

/// The markers of one session's state frame: `set` output, the exports marker, `export -p`
/// output, the end marker, each marker on a line of its own.
#[derive(Debug, Clone)]
pub struct Markers {
    /// Between `set` and `export -p`.
    pub exports: String,
    /// At the end.
    pub end: String,
}

impl Markers {
    /// Markers unique to one session, so no honest value or file name holds them.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Default for Markers {
    fn default() -> Self {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        Self { exports: format!("__kiln_exports_{nonce}"), end: format!("__kiln_end_{nonce}") }
    }
}

impl Markers {
    /// Whether `frame` holds the whole frame (it ends with the end marker line).
    pub fn complete(&self, frame: &[u8]) -> bool {
        let end = self.end.as_bytes();
        frame.len() > end.len()
            && frame.ends_with(b"\n")
            && frame[..frame.len() - 1].ends_with(end)
            && (frame.len() == end.len() + 1 || frame[frame.len() - end.len() - 2] == b'\n')
    }

    /// Reads a complete frame back; `None` when it is not one.
    pub fn parse(&self, frame: &[u8]) -> Option<State> {
        if !self.complete(frame) {
            return None;
        }
        let entries = decode::split_entries(frame);
        let (last, rest) = entries.split_last()?;
        if *last != self.end.as_bytes() {
            return None;
        }
        let split = rest.iter().position(|e| *e == self.exports.as_bytes())?;
        let mut state = State::default();
        for entry in &rest[..split] {
            let Some(eq) = entry.iter().position(|b| *b == b'=') else { continue };
            let name = String::from_utf8_lossy(&entry[..eq]).into_owned();
            if !is_identifier(&name) {
                continue;
            }
            match decode::value(&entry[eq + 1..]) {
                Ok(value) => state.vars.push((name, value)),
                Err(_) if restorable(&name) => state.dropped.push(name),
                Err(_) => {}
            }
        }
        for entry in &rest[split + 1..] {
            match export_name(entry) {
                Ok(name) => state.exported.push(name),
                Err(Some(name)) if restorable(&name) => state.dropped.push(name),
                Err(Some(_)) => {}
                Err(None) => state.dropped.push("(an unreadable `export -p` entry)".to_owned()),
            }
        }
        state.cwd =
            state.scalar("PWD").map(|v| PathBuf::from(std::ffi::OsString::from_vec(v.to_vec())));
        Some(state)
    }
}

/// The name an `export -p` entry exports (`export NAME=...`, `export NAME`,
/// `declare -x NAME=...`), when its value decodes; else the name when there is one.
fn export_name(entry: &[u8]) -> Result<String, Option<String>> {
    let rest = if let Some(r) = entry.strip_prefix(b"export ") {
        r
    } else {
        let r = entry.strip_prefix(b"declare -").ok_or(None)?;
        let space = r.iter().position(|b| *b == b' ').ok_or(None)?;
        &r[space + 1..]
    };
    let (name, value) = match rest.iter().position(|b| *b == b'=') {
        Some(eq) => (&rest[..eq], Some(&rest[eq + 1..])),
        None => (rest, None),
    };
    let name = std::str::from_utf8(name).ok().filter(|n| is_identifier(n)).ok_or(None)?;
    match value.map(decode::value) {
        Some(Err(_)) => Err(Some(name.to_owned())),
        _ => Ok(name.to_owned()),
    }
}

impl State {
    /// The value of the plain variable `name` (element 0 of an array, as `$name` gives).
    pub fn scalar(&self, name: &str) -> Option<&[u8]> {
        self.vars.iter().rev().find(|(n, _)| n == name).and_then(|(_, v)| match v {
            Value::Scalar(s) => Some(s.as_slice()),
            Value::Array(a) => a.iter().find(|(i, _)| *i == 0).map(|(_, s)| s.as_slice()),
        })
    }

    /// The exported variables that have a value, for a process's environment.
    pub fn environment(&self) -> Vec<(String, String)> {
        self.exported
            .iter()
            .filter(|n| !matches!(n.as_str(), "PWD" | "SHLVL" | "_") && !n.starts_with("__kiln"))
            .filter_map(|n| {
                self.scalar(n).map(|v| (n.clone(), String::from_utf8_lossy(v).into_owned()))
            })
            .collect()
    }

    /// The restore script: one line (so the command that follows starts on line 1) of
    /// `;`-separated assignments restoring this state, then `overrides` (exported) and `unset`
    /// over it; bash arrays only when `arrays` (the shell is bash). A newline inside a value is
    /// written as `"$__kiln_nl"`, a newline taken from the fresh shell's default `IFS`.
    pub fn restore_line(
        &self,
        overrides: &[(String, String)],
        unset: &[String],
        arrays: bool,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"__kiln_nl=${IFS#??}; ");
        for (name, value) in &self.vars {
            if !restorable(name) || overrides.iter().any(|(o, _)| o == name) {
                continue;
            }
            match value {
                Value::Scalar(v) => {
                    out.extend_from_slice(name.as_bytes());
                    out.push(b'=');
                    quote_line(v, &mut out);
                }
                Value::Array(elements) if arrays => {
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b"=(");
                    for (i, (index, v)) in elements.iter().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        out.extend_from_slice(format!("[{index}]=").as_bytes());
                        quote_line(v, &mut out);
                    }
                    out.push(b')');
                }
                Value::Array(_) => continue,
            }
            out.extend_from_slice(b"; ");
        }
        let exported: Vec<&String> = self
            .exported
            .iter()
            .filter(|n| restorable(n) && !overrides.iter().any(|(o, _)| o == *n))
            .collect();
        if !exported.is_empty() {
            out.extend_from_slice(b"export");
            for name in exported {
                out.push(b' ');
                out.extend_from_slice(name.as_bytes());
            }
            out.extend_from_slice(b"; ");
        }
        for (name, value) in overrides.iter().filter(|(n, _)| is_identifier(n)) {
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            quote_line(value.as_bytes(), &mut out);
            out.extend_from_slice(b"; export ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"; ");
        }
        for name in unset.iter().filter(|n| is_identifier(n)) {
            out.extend_from_slice(b"unset ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"; ");
        }
        out.extend_from_slice(b"unset __kiln_nl; ");
        out
    }
}

/// Appends `value` quoted as [`quote_into`] does, each newline as `'"$__kiln_nl"'`.
fn quote_line(value: &[u8], out: &mut Vec<u8>) {
    for (i, line) in value.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"$__kiln_nl\"");
        }
        quote_into(line, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers() -> Markers {
        Markers { exports: "__X".into(), end: "__E".into() }
    }

    #[test]
    fn reads_a_frame_and_restores_only_assignments() {
        let frame = b"FOO='bar'\nPPID='1'\nBASH_VERSINFO=([0]=\"5\")\nPWD='/x y'\nM='a\nb'\n__kiln_rc='0'\nBAD=$(id)\nBASH_ALIASES=([ll]=\"ls -l\" )\narr=([0]=\"1\" [2]=$'x\\ny')\n__X\nexport FOO='bar'\nexport PWD='/x y'\nexport UNSET\nexport PATH=\"/bin\"\n__E\n";
        let state = markers().parse(frame).expect("frame");
        assert_eq!(state.cwd, Some(PathBuf::from("/x y")));
        assert_eq!(state.dropped, ["BAD"]);
        assert_eq!(state.exported, ["FOO", "PWD", "UNSET", "PATH"]);
        assert_eq!(state.scalar("M"), Some(&b"a\nb"[..]));
        let overrides = vec![("CODEBUILD_BUILD_SUCCEEDING".to_owned(), "0".to_owned())];
        let script = state.restore_line(&overrides, &["HOME".to_owned()], true);
        assert_eq!(
            String::from_utf8_lossy(&script),
            "__kiln_nl=${IFS#??}; FOO='bar'; M='a'\"$__kiln_nl\"'b'; arr=([0]='1' [2]='x'\"$__kiln_nl\"'y'); export FOO UNSET PATH; CODEBUILD_BUILD_SUCCEEDING='0'; export CODEBUILD_BUILD_SUCCEEDING; unset HOME; unset __kiln_nl; "
        );
        let sh = state.restore_line(&[], &[], false);
        assert!(!String::from_utf8_lossy(&sh).contains("arr"));
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn incomplete_or_forged_frames_are_refused() {
        let m = markers();
        assert!(m.parse(b"FOO='bar'\n__X\n").is_none());
        assert!(m.parse(b"FOO='bar\n__X\n__E\n").is_none());
        assert!(m.parse(b"FOO='bar'\nx__E\n").is_none());
        assert!(m.parse(b"__E\n").is_none());
        let state = m.parse(b"A='1'\n__X\n__E\n").expect("frame");
        assert_eq!(state.vars, [("A".to_owned(), Value::Scalar(b"1".to_vec()))]);
    }
}
