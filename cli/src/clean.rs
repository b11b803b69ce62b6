//! `kiln clean`: removes old builds from the data directory — each project keeps its newest
//! `--keep` builds (20 by default), and with `--older-than` only builds that ended within that
//! time — and the local store's temporary files. A build still running is never removed.
//!
//! `kiln run` keeps the working copies of each project's newest 20 builds by itself (their
//! records and logs stay, for `kiln runs`); `kiln clean` removes whole builds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiln_core::build::{Build, layout};
use kiln_core::ports::BuildStore;
use kiln_local::FsBuildStore;

/// How many builds of a project keep their working copy after `kiln run`.
pub const KEEP_WORKING_COPIES: usize = 20;

/// Arguments of `kiln clean`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0, or 2 when the data directory cannot be read or cleaned.")]
pub struct Args {
    /// How many of each project's newest builds to keep.
    #[arg(long, value_name = "N", default_value_t = KEEP_WORKING_COPIES)]
    keep: usize,
    /// Also remove kept builds that ended longer ago than this: 12h, 7d.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: Option<u64>,
    /// The data directory.
    #[arg(long, value_name = "DIR", default_value = ".kiln")]
    data_dir: PathBuf,
}

fn parse_age(text: &str) -> Result<u64, String> {
    let (digits, unit) =
        text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid age `{text}`: expected a number and m, h or d (12h, 7d)"))?;
    let per = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!("invalid age `{text}`: expected a number and m, h or d (12h, 7d)"));
        }
    };
    n.checked_mul(per).ok_or_else(|| format!("invalid age `{text}`: too long"))
}

/// The builds of `store` to drop: beyond the newest `keep` of each project, or ended more than
/// `older_than` ms before `now`; never one still running.
pub fn expired(builds: &[Build], keep: usize, older_than: Option<u64>, now: i64) -> Vec<Build> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for b in builds {
        let n = seen.entry(b.identity.project.as_str()).or_default();
        *n += 1;
        let too_many = *n > keep;
        let too_old = older_than.is_some_and(|age| {
            b.end_time
                .is_some_and(|end| now.saturating_sub(end) > i64::try_from(age).unwrap_or(i64::MAX))
        });
        if b.state.is_terminal() && (too_many || too_old) {
            out.push(b.clone());
        }
    }
    out
}

fn size_of(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
        .sum()
}

/// Removes `dir` (if any), returning the bytes it held.
pub fn remove(dir: &Path) -> std::io::Result<u64> {
    if !dir.exists() {
        return Ok(0);
    }
    let bytes = size_of(dir);
    std::fs::remove_dir_all(dir)?;
    Ok(bytes)
}

/// Removes the working copies (source and state) of each project's builds beyond the newest
/// [`KEEP_WORKING_COPIES`], after a `kiln run`. Returns the bytes freed.
pub async fn prune_working_copies(store: &FsBuildStore, project: &str) -> std::io::Result<u64> {
    let builds =
        store.list_recent(Some(project), usize::MAX).await.map_err(std::io::Error::other)?;
    let mut freed = 0;
    for b in builds.iter().skip(KEEP_WORKING_COPIES).filter(|b| b.state.is_terminal()) {
        let dir = store.build_dir(&b.build_ref());
        freed += remove(&dir.join("src"))? + remove(&dir.join("state"))?;
    }
    Ok(freed)
}

/// Runs `kiln clean`.
pub fn run(args: &Args) -> ExitCode {
    let store = FsBuildStore::new(&args.data_dir);
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kiln clean: start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let builds = match runtime.block_on(store.list_recent(None, usize::MAX)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "kiln clean: read {}: {}",
                args.data_dir.display(),
                kiln_core::error_chain(&e)
            );
            return ExitCode::from(2);
        }
    };
    let now = kiln_core::ports::Clock::now_ms(&kiln_core::ports::SystemClock);
    let mut freed = 0;
    let mut removed = 0;
    for b in expired(&builds, args.keep, args.older_than, now) {
        let at = b.build_ref();
        match remove(&store.build_dir(&at)) {
            Ok(bytes) => {
                freed += bytes;
                removed += 1;
                let _ = std::fs::remove_file(
                    args.data_dir.join(layout::idempotency_key(&b.idempotency_key)),
                );
            }
            Err(e) => {
                eprintln!("kiln clean: remove {at}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Ok(bytes) = remove(&args.data_dir.join("s3-tmp")) {
        freed += bytes;
    }
    println!("removed {removed} build(s), {:.1} MB freed", freed as f64 / 1e6);
    ExitCode::SUCCESS
}
