//! Restoring and saving the build cache through the object store (spec §5).
//!
//! Restore (after DOWNLOAD_SOURCE): with `key`, the exact entry, else each `fallback-keys`
//! prefix in order, the newest entry matching it winning; without `key`, the project's single
//! unkeyed entry (`fallback-keys` are then ignored). Save (in UPLOAD_ARTIFACTS): a keyed entry
//! is written only if absent (an existing one, or one written meanwhile, is kept); the unkeyed
//! entry is overwritten. `action: restore` never saves, `action: save` never restores.
//! Paths are CodeBuild globs relative to the source directory, or absolute (`~/` means `$HOME`
//! of the build's environment). Every failure is a `Warning:` line, never a failed build.
//!
//! Containment (see `kiln_core::cache::CachePaths` and `archive`): saving walks each path's
//! root without following a link out of it and keeps links only when they stay inside;
//! restoring writes only regular files and inside links, only under the current buildspec's
//! paths, never through a link, without special mode bits. A hostile entry is skipped with a
//! `Warning:` line (the first [`MAX_SKIPS_KEPT`](super::archive::MAX_SKIPS_KEPT) by name,
//! then a count).

use kiln_core::artifacts::Selection;
use kiln_core::buildspec::{CacheAction, CacheSpec};
use kiln_core::cache::{CacheLayout, CachePaths, CacheSettings, pick_newest};
use kiln_core::ports::{ObjectInfo, PortErrorKind, PutOptions};

use super::archive::{ArchiveEntry, Restored, pack, unpack};
use super::artifacts::build_metadata;
use super::boundary::UploadInput;
use super::shell;
use super::walk::{find, log_found};
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

/// Why a cache key could not be used.
#[derive(Debug, thiserror::Error)]
enum KeyError {
    /// The key's text evaluates to nothing.
    #[error("cache key {0:?} evaluates to nothing; skipping the cache")]
    Empty(String),
    /// The shell could not evaluate it.
    #[error("cannot evaluate cache key {0:?}")]
    Eval(String, #[source] shell::ShellError),
}

/// The evaluated `cache.key`, `None` when the buildspec has none.
fn evaluate_key(input: &UploadInput<'_>, spec: &CacheSpec) -> Result<Option<String>, KeyError> {
    let Some(text) = &spec.key else { return Ok(None) };
    match shell::eval(input.shell, input.env, input.src_dir, text, input.deadline, input.stop) {
        Ok(key) if !key.is_empty() => Ok(Some(key)),
        Ok(_) => Err(KeyError::Empty(text.clone())),
        Err(e) => Err(KeyError::Eval(text.clone(), e)),
    }
}

/// Restores the cache; see the module docs.
pub(super) async fn restore(input: &UploadInput<'_>, log: &mut Log<'_>) {
    let Some((spec, layout)) = configured(input, log, true) else { return };
    if spec.action == Some(CacheAction::Save) {
        log("Skipping cache restore: the cache action is save".to_owned());
        return;
    }
    let key = match evaluate_key(input, spec) {
        Ok(key) => key,
        Err(e) => return log(format!("Warning: {}", error_chain(&e))),
    };
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
            log(format!("Warning: cache lookup failed: {}", error_chain(&e)));
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
    let paths = cache_paths(input, spec, log);
    let unpacked = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&dest).map_err(|e| e.to_string())?;
        unpack(file, &paths, &src).map_err(|e| error_chain(&e))
    })
    .await;
    match unpacked {
        Ok(Ok(restored)) => log_restored(&restored, log),
        Ok(Err(e)) => log(format!("Warning: cache restore failed: {e}")),
        Err(e) => log(format!("Warning: cache restore failed: {e}")),
    }
}

fn log_restored(restored: &Restored, log: &mut Log<'_>) {
    log(format!("Restored {} cached file(s)", restored.count));
    for skip in &restored.skips {
        log(format!("Warning: cache entry {:?} skipped: {}", skip.name, skip.reason));
    }
    if restored.skipped > restored.skips.len() {
        log(format!(
            "Warning: {} more cache entries skipped",
            restored.skipped - restored.skips.len()
        ));
    }
}

/// The buildspec's cache paths, logging those that lead outside the source directory.
fn cache_paths(input: &UploadInput<'_>, spec: &CacheSpec, log: &mut Log<'_>) -> CachePaths {
    let home = input.env.iter().find(|(k, _)| k == "HOME").map(|(_, v)| v.as_str());
    let paths = CachePaths::new(&spec.paths, home);
    for text in &paths.refused {
        log(format!("Warning: cache: skipping path {text}: it leads outside the source directory"));
    }
    paths
}

async fn find_entry(
    input: &UploadInput<'_>,
    layout: &CacheLayout,
    key: Option<&str>,
    fallback_keys: &[String],
) -> Result<Option<ObjectInfo>, kiln_core::ports::PortError> {
    let exact = layout.entry_key(key);
    match input.store.head(&layout.bucket, &exact).await {
        Ok(info) => return Ok(Some(info)),
        Err(e) if e.kind == PortErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if key.is_none() {
        return Ok(None);
    }
    for fallback in fallback_keys {
        let listed = input.store.list(&layout.bucket, &layout.fallback_prefix(fallback)).await?;
        if let Some(info) = pick_newest(&listed) {
            return Ok(Some(info.clone()));
        }
    }
    Ok(None)
}

/// The archive entries for the cache paths, each under its root (see the module docs).
fn cache_entries(
    input: &UploadInput<'_>,
    spec: &CacheSpec,
    log: &mut Log<'_>,
) -> Vec<ArchiveEntry> {
    let mut entries: Vec<ArchiveEntry> = Vec::new();
    for path in &cache_paths(input, spec, log).paths {
        let files = [path.pattern.as_str().to_owned()];
        let found = find(
            &path.root_dir(input.src_dir),
            &Selection { files: &files, keep_symlinks: true, ..Default::default() },
        );
        log_found(&found, "cache: ", log);
        entries.extend(
            found
                .selected
                .files
                .into_iter()
                .map(|f| ArchiveEntry { name: path.entry_name(&f.path), file: f }),
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
    let key = match evaluate_key(input, spec) {
        Ok(key) => key,
        Err(e) => return log(format!("Warning: {}", error_chain(&e))),
    };
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
    let entries = cache_entries(input, spec, log);
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
