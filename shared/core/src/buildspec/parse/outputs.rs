//! What a build leaves behind: `reports`, `artifacts` (with `secondary-artifacts`) and `cache`.
//!
//! Paths that would lead outside the source directory are warned about (kiln never reads
//! them there; see `kiln_core::artifacts::clean_relative`): an artifact or report path, base
//! directory or exclude path with `..` or a leading `/`, and a relative cache path with `..`.
//! Absolute cache paths (`/root/.m2/**/*`) are CodeBuild usage and not warned about.

use crate::artifacts::clean_relative;
use crate::diagnostic::{child_path, index_path};
use crate::yaml::Node;

use super::super::keys::{ARTIFACTS, CACHE, REPORT, REPORT_FORMATS, SECONDARY_ARTIFACT};
use super::super::model::{ArtifactsSpec, CacheAction, CacheSpec, ReportFormat, ReportSpec};
use super::super::suggest::did_you_mean;
use super::reader::{Reader, Section};

/// The most `fallback-keys` CodeBuild documents.
const MAX_FALLBACK_KEYS: usize = 5;

/// `reports`: report group name or ARN → its files and format.
pub(super) fn reports(r: &mut Reader, node: &Node, path: &str) -> Vec<ReportSpec> {
    let Some(entries) = r.entries(node, path, "a mapping of report groups") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value, _) in entries {
        let p = child_path(path, key);
        let Some(sec) = r.section(value, &p, REPORT) else { continue };
        let file_format = match sec.get("file-format") {
            Some((n, fp)) => match r.text(n, &fp) {
                Some(text) => match ReportFormat::from_name(&text) {
                    Some(f) => f,
                    None => {
                        r.error(
                            n.pos,
                            &fp,
                            format!(
                                "unknown report file-format `{text}`; expected one of {}",
                                REPORT_FORMATS.join(", ")
                            ),
                        );
                        if let Some(help) = did_you_mean(&text, REPORT_FORMATS.iter().copied()) {
                            r.help(help);
                        }
                        ReportFormat::JunitXml
                    }
                },
                None => ReportFormat::JunitXml,
            },
            None => ReportFormat::JunitXml,
        };
        let within = base_name(&sec);
        warn_outside(r, &sec, "files", within);
        warn_outside(r, &sec, "base-directory", "the source directory");
        out.push(ReportSpec {
            key: key.to_owned(),
            files: list(r, &sec, "files"),
            base_directory: text(r, &sec, "base-directory"),
            discard_paths: flag(r, &sec, "discard-paths"),
            file_format,
        });
    }
    out
}

/// `artifacts`; a null section is absent.
pub(super) fn artifacts(r: &mut Reader, node: &Node, path: &str) -> Option<ArtifactsSpec> {
    if node.is_null() {
        return None;
    }
    let sec = r.section(node, path, ARTIFACTS)?;
    let mut spec = artifact(r, &sec);
    if let Some((n, p)) = sec.get("secondary-artifacts") {
        for (id, value, _) in
            r.entries(n, &p, "a mapping of artifact identifiers").unwrap_or_default()
        {
            let ip = child_path(&p, id);
            if let Some(s) = r.section(value, &ip, SECONDARY_ARTIFACT) {
                let secondary = artifact(r, &s);
                spec.secondary.push((id.to_owned(), secondary));
            }
        }
    }
    Some(spec)
}

fn artifact(r: &mut Reader, sec: &Section<'_>) -> ArtifactsSpec {
    let within = base_name(sec);
    warn_outside(r, sec, "files", within);
    warn_outside(r, sec, "base-directory", "the source directory");
    warn_outside(r, sec, "exclude-paths", within);
    ArtifactsSpec {
        files: list(r, sec, "files"),
        name: text(r, sec, "name"),
        discard_paths: flag(r, sec, "discard-paths"),
        base_directory: text(r, sec, "base-directory"),
        exclude_paths: list(r, sec, "exclude-paths"),
        enable_symlinks: flag(r, sec, "enable-symlinks"),
        s3_prefix: text(r, sec, "s3-prefix"),
        secondary: Vec::new(),
    }
}

/// `cache`; a null section is absent.
pub(super) fn cache(r: &mut Reader, node: &Node, path: &str) -> Option<CacheSpec> {
    if node.is_null() {
        return None;
    }
    let sec = r.section(node, path, CACHE)?;
    warn_outside(r, &sec, "paths", "");
    let spec = CacheSpec {
        paths: list(r, &sec, "paths"),
        key: text(r, &sec, "key"),
        fallback_keys: list(r, &sec, "fallback-keys"),
        action: sec.get("action").and_then(|(n, p)| {
            let t = r.text(n, &p)?;
            match t.as_str() {
                "restore" => Some(CacheAction::Restore),
                "save" => Some(CacheAction::Save),
                _ => {
                    r.error(
                        n.pos,
                        &p,
                        format!("unknown cache action `{t}`; expected restore or save"),
                    );
                    if let Some(help) = did_you_mean(&t, ["restore", "save"]) {
                        r.help(help);
                    }
                    None
                }
            }
        }),
    };
    if let Some((n, p)) = sec.get("fallback-keys") {
        if spec.key.is_none() {
            r.warning(n.pos, &p, "fallback-keys are ignored when `key` is not set");
            r.help("add `key:` to the cache section");
        } else if spec.fallback_keys.len() > MAX_FALLBACK_KEYS {
            r.warning(
                n.pos,
                &p,
                format!(
                    "{} fallback-keys; CodeBuild documents at most {MAX_FALLBACK_KEYS}",
                    spec.fallback_keys.len()
                ),
            );
        }
    }
    Some(spec)
}

fn list(r: &mut Reader, sec: &Section<'_>, key: &str) -> Vec<String> {
    sec.get(key).map(|(n, p)| r.text_list(n, &p)).unwrap_or_default()
}

fn text(r: &mut Reader, sec: &Section<'_>, key: &str) -> Option<String> {
    sec.get(key).and_then(|(n, p)| r.text(n, &p))
}

fn flag(r: &mut Reader, sec: &Section<'_>, key: &str) -> bool {
    sec.get(key).and_then(|(n, p)| r.boolean(n, &p)).unwrap_or(false)
}

/// What the paths of a section are relative to, as a warning names it.
fn base_name(sec: &Section<'_>) -> &'static str {
    if sec.get("base-directory").is_some() { "the base directory" } else { "the source directory" }
}

/// Warns, at each item of `key` (a list or one string), about a path with `..` or a leading
/// `/`, saying how kiln reads it relative to `within`. An empty `within` marks cache paths,
/// where an absolute path is allowed and only a relative one with `..` is warned about.
fn warn_outside(r: &mut Reader, sec: &Section<'_>, key: &str, within: &str) {
    let Some((node, path)) = sec.get(key) else { return };
    let items: Vec<(&Node, String)> = match node.as_sequence() {
        Some(items) => items.iter().enumerate().map(|(i, n)| (n, index_path(&path, i))).collect(),
        None => vec![(node, path)],
    };
    for (item, item_path) in items {
        let Some(text) = item.as_scalar().filter(|_| !item.is_null()).map(|s| s.text.as_str())
        else {
            continue;
        };
        let cache = within.is_empty();
        let absolute = text.starts_with('/');
        let climbs = text.split('/').any(|s| s == "..");
        if (cache && absolute) || !(absolute || climbs) {
            continue;
        }
        let within = if cache { "the source directory" } else { within };
        let dropped = match key {
            "exclude-paths" => "it excludes nothing",
            _ if cache => "kiln does not cache it",
            _ => "kiln does not read it",
        };
        let message = match clean_relative(text) {
            None => format!("`{text}` leads outside {within}; {dropped}"),
            Some(clean) if absolute => {
                format!("`{text}` is absolute; kiln reads it relative to {within}, as `{clean}`")
            }
            Some(clean) => format!("`{text}` has `..`; kiln reads it as `{clean}`"),
        };
        r.warning(item.pos, &item_path, message);
        r.help("write the path relative to the source directory, without `..`");
    }
}
