//! Restoring and saving the build cache through the object store (spec §5).
//!
//! Restore (after DOWNLOAD_SOURCE): with `key`, the exact entry, else each `fallback-keys`
//! prefix in order, the newest entry matching it winning; without `key`, the project's single
//! unkeyed entry (`fallback-keys` are then ignored). Save (in UPLOAD_ARTIFACTS): a keyed entry
//! is written only if absent (an existing one, or one written meanwhile, is kept); the unkeyed
//! entry is overwritten. `action: restore` never saves, `action: save` never restores.
//! Paths are CodeBuild globs relative to the source directory, or absolute (`~/` means `$HOME`
//! of the build's environment). Every failure is a `Warning:` line, never a failed build.

use std::path::PathBuf;

use kiln_core::artifacts::{Selection, select};
use kiln_core::buildspec::{CacheAction, CacheSpec};
use kiln_core::cache::{CacheLayout, CacheSettings, pick_newest};
use kiln_core::ports::{ObjectInfo, PortErrorKind, PutOptions};

use super::archive::{ArchiveEntry, pack, unpack};
use super::artifacts::build_metadata;
use super::boundary::UploadInput;
use super::shell;
use crate::error_text::error_chain;

type Log<'l> = dyn FnMut(String) + Send + 'l;

/// The cache spec and layout, when this build caches at all (logging why not otherwise).
fn configured<'a>(
    input: &UploadInput<'a>,
    log: &mut Log<'_>,
    restoring: bool,
) -> Option<(&'a CacheSpec, CacheLayout)> {
    let spec = input.buildspec.cache.as_ref()?;
    let layout =
        match CacheSettings::from_project(input.project.cache.as_ref(), &input.project.name) {
            Ok(CacheSettings::S3(layout)) => layout,
            Ok(CacheSettings::Disabled(why)) => {
                if restoring {
                    log(format!("Skipping the cache: {why}"));
                }
                return None;
            }
            Err(e) => {
                log(format!("Warning: cache disabled: {e}"));
                return None;
            }
        };
    if spec.paths.is_empty() {
        if restoring {
            log("Unable to initialize cache download: no paths specified to be cached".to_owned());
        }
        return None;
    }
    Some((spec, layout))
}

fn evaluate_key(
    input: &UploadInput<'_>,
    log: &mut Log<'_>,
    spec: &CacheSpec,
) -> Result<Option<String>, ()> {
    let Some(text) = &spec.key else { return Ok(None) };
    match shell::eval(input.shell, input.env, input.src_dir, text, input.deadline, input.stop) {
        Ok(key) if !key.is_empty() => Ok(Some(key)),
        Ok(_) => {
            log(format!("Warning: cache key {text:?} evaluates to nothing; skipping the cache"));
            Err(())
        }
        Err(e) => {
            log(format!("Warning: cannot evaluate cache key {text:?}: {}", error_chain(&e)));
            Err(())
        }
    }
}

/// Restores the cache; see the module docs.
pub(super) async fn restore(input: &UploadInput<'_>, log: &mut Log<'_>) {
    let Some((spec, layout)) = configured(input, log, true) else { return };
    if spec.action == Some(CacheAction::Save) {
        log("Skipping cache restore: the cache action is save".to_owned());
        return;
    }
    let Ok(key) = evaluate_key(input, log, spec) else { return };
    let found = match find_entry(input, &layout, key.as_deref(), &spec.fallback_keys).await {
        Ok(Some(info)) => info,
        Ok(None) => {
            log(match &key {
                Some(k) => format!("No cache entry matches key {k} or its fallback keys"),
                None => "No cache entry yet".to_owned(),
            });
            return;
        }
        Err(e) => {
            log(format!("Warning: cache lookup failed: {e}"));
            return;
        }
    };
    log(format!("Restoring cache from s3://{}/{}", layout.bucket, found.key));
    // The download goes to a new file in a directory of its own, removed with the directory.
    let temp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => return log(format!("Warning: cache restore failed: temporary file: {e}")),
    };
    let dest = temp.path().join("entry");
    if let Err(e) = input.store.get_file(&layout.bucket, &found.key, &dest).await {
        return log(format!("Warning: cache download failed: {}", error_chain(&e)));
    }
    let src = input.src_dir.to_path_buf();
    let unpacked = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&dest).map_err(|e| e.to_string())?;
        unpack(file, &src).map_err(|e| error_chain(&e))
    })
    .await;
    match unpacked {
        Ok(Ok(n)) => log(format!("Restored {n} cached file(s)")),
        Ok(Err(e)) => log(format!("Warning: cache restore failed: {e}")),
        Err(e) => log(format!("Warning: cache restore failed: {e}")),
    }
}

async fn find_entry(
    input: &UploadInput<'_>,
    layout: &CacheLayout,
    key: Option<&str>,
    fallback_keys: &[String],
) -> Result<Option<ObjectInfo>, String> {
    let exact = layout.entry_key(key);
    match input.store.head(&layout.bucket, &exact).await {
        Ok(info) => return Ok(Some(info)),
        Err(e) if e.kind == PortErrorKind::NotFound => {}
        Err(e) => return Err(error_chain(&e)),
    }
    if key.is_none() {
        return Ok(None);
    }
    for fallback in fallback_keys {
        let listed = input
            .store
            .list(&layout.bucket, &layout.fallback_prefix(fallback))
            .await
            .map_err(|e| error_chain(&e))?;
        if let Some(info) = pick_newest(&listed) {
            return Ok(Some(info.clone()));
        }
    }
    Ok(None)
}

/// The archive entries for the cache paths (relative to the source dir, or absolute).
fn cache_entries(input: &UploadInput<'_>, spec: &CacheSpec) -> Vec<ArchiveEntry> {
    let home = input.env.iter().find(|(k, _)| k == "HOME").map(|(_, v)| v.clone());
    let mut entries: Vec<ArchiveEntry> = Vec::new();
    for path in &spec.paths {
        let text = match (path.strip_prefix("~/"), &home) {
            (Some(rest), Some(home)) => format!("{}/{rest}", home.trim_end_matches('/')),
            _ => path.clone(),
        };
        let (root, prefix, pattern): (PathBuf, &str, String) = match text.strip_prefix('/') {
            Some(abs) => (PathBuf::from("/"), "a", abs.to_owned()),
            None => (input.src_dir.to_path_buf(), "s", text.clone()),
        };
        let files = [pattern];
        let selected =
            select(&root, &Selection { files: &files, keep_symlinks: true, ..Default::default() });
        entries.extend(
            selected
                .files
                .into_iter()
                .map(|f| ArchiveEntry { name: format!("{prefix}/{}", f.path), file: f }),
        );
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries.dedup_by(|a, b| a.name == b.name);
    entries
}

/// Saves the cache; see the module docs.
pub(super) async fn save(input: &UploadInput<'_>, log: &mut Log<'_>) {
    let Some((spec, layout)) = configured(input, log, false) else { return };
    if spec.action == Some(CacheAction::Restore) {
        log("Skipping cache save: the cache action is restore".to_owned());
        return;
    }
    let Ok(key) = evaluate_key(input, log, spec) else { return };
    let object = layout.entry_key(key.as_deref());
    if key.is_some() {
        match input.store.head(&layout.bucket, &object).await {
            Ok(_) => {
                return log(format!(
                    "Cache entry s3://{}/{object} exists; keyed entries are not replaced",
                    layout.bucket
                ));
            }
            Err(e) if e.kind == PortErrorKind::NotFound => {}
            Err(e) => return log(format!("Warning: cache save failed: {}", error_chain(&e))),
        }
    }
    let entries = cache_entries(input, spec);
    if entries.is_empty() {
        return log("No files to cache".to_owned());
    }
    let temp = match tempfile::NamedTempFile::new() {
        Ok(t) => t,
        Err(e) => return log(format!("Warning: cache save failed: temporary file: {e}")),
    };
    let out = match temp.reopen() {
        Ok(f) => f,
        Err(e) => return log(format!("Warning: cache save failed: {e}")),
    };
    let packed =
        tokio::task::spawn_blocking(move || pack(&entries, out).map_err(|e| error_chain(&e))).await;
    let count = match packed {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return log(format!("Warning: cache save failed: {e}")),
        Err(e) => return log(format!("Warning: cache save failed: {e}")),
    };
    let options = PutOptions { if_absent: key.is_some(), ..build_metadata(input) };
    match input.store.put_file(&layout.bucket, &object, temp.path(), &options).await {
        Ok(()) => {
            log(format!("Saved {count} file(s) to the cache at s3://{}/{object}", layout.bucket))
        }
        Err(e) if e.kind == PortErrorKind::Conflict => {
            log(format!(
                "Cache entry s3://{}/{object} was written meanwhile; keeping it",
                layout.bucket
            ));
        }
        Err(e) => log(format!("Warning: cache save failed: {}", error_chain(&e))),
    }
}
