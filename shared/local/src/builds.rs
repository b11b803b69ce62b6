//! `FsBuildStore`: the [`BuildStore`] port as files under the data directory, in the state
//! bucket's layout ([`kiln_core::build::layout`]: `DATA_DIR/<key>`), safe for several `kiln`
//! processes sharing one data directory.
//!
//! - numbers are claimed with `create_new` files, so two processes never get the same one;
//! - a record is written to a temporary file and renamed into place, so readers see a whole
//!   record; an update takes an exclusive lock on the record's lock file, compares revisions
//!   and then renames, so compare-and-swap holds across processes;
//! - `create` writes the record under its fresh number, then claims its key with a
//!   `create_new` file naming that build; the loser of a race on a key removes its record and
//!   returns the winner's;
//! - an `open/<project>/<n>` marker lives while the build has not ended.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use kiln_core::build::{Build, BuildRef, BuildSummary, layout, next_build_number};
use kiln_core::ports::{BuildStore, Created, PortError, PortErrorKind, PortFuture};

/// The largest record or summary kiln reads back (a summary holds at most a few thousand test
/// cases).
const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// Build state on disk under a data directory.
#[derive(Debug, Clone)]
pub struct FsBuildStore {
    root: PathBuf,
    /// The last number this store claimed per project: the next claim tries the one after it
    /// first, so a busy server does not list every claimed number for every build. Claims of
    /// this process are serialized by the lock; other processes are kept apart by `create_new`.
    last_claimed: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>,
}

impl FsBuildStore {
    /// A store under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self { root: data_dir.into(), last_claimed: std::sync::Arc::default() }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.root
    }

    /// Where `key` of the layout lives.
    pub fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// The directory of everything of `build` (its record, summary, log and workspace).
    pub fn build_dir(&self, build: &BuildRef) -> PathBuf {
        self.root.join(layout::build_prefix(build))
    }

    fn claim_sync(&self, project: &str) -> io::Result<u64> {
        let dir = self.path(&layout::numbers_prefix(project));
        let mut last = self.last_claimed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let create = |number: u64| {
            fs::OpenOptions::new().write(true).create_new(true).open(dir.join(number.to_string()))
        };
        if let Some(&n) = last.get(project) {
            match create(n + 1) {
                Ok(_) => {
                    last.insert(project.to_owned(), n + 1);
                    return Ok(n + 1);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        fs::create_dir_all(&dir)?;
        loop {
            let names: Vec<String> = fs::read_dir(&dir)?
                .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
                .collect();
            let number = next_build_number(names.iter().map(String::as_str));
            match create(number) {
                Ok(_) => {
                    last.insert(project.to_owned(), number);
                    return Ok(number);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn read_record(&self, build: &BuildRef) -> Result<Build, PortError> {
        let key = layout::record_key(build);
        let bytes = read_limited(&self.path(&key))
            .map_err(|e| io_error(&e, format!("read build record {key}")))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            PortError::new(PortErrorKind::Permanent, format!("read build record {key}"))
                .with_source(e)
        })
    }

    fn write_json(&self, key: &str, value: &impl serde::Serialize) -> Result<(), PortError> {
        let op = || format!("write {key}");
        let json = serde_json::to_vec_pretty(value)
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        write_atomic(&self.path(key), &json).map_err(|e| io_error(&e, op()))
    }

    fn create_sync(&self, build: &Build) -> Result<Created, PortError> {
        let at = build.build_ref();
        let record = layout::record_key(&at);
        let mut stored = build.clone();
        stored.revision = 1;
        self.write_json(&record, &stored)?;
        if !stored.state.is_terminal() {
            touch(&self.path(&layout::open_key(&at)))
                .map_err(|e| io_error(&e, format!("mark {at} open")))?;
        }
        let key_path = self.path(&layout::idempotency_key(&build.idempotency_key));
        let claimed = (|| {
            if let Some(parent) = key_path.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&key_path)?;
            file.write_all(format!("{}/{}\n", at.project, at.number).as_bytes())
        })();
        match claimed {
            Ok(()) => Ok(Created::New(stored)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(self.path(&layout::open_key(&at)));
                let _ = fs::remove_file(self.path(&record));
                match self.find_sync(&build.idempotency_key)? {
                    Some(first) => Ok(Created::Existing(first)),
                    None => Err(PortError::new(
                        PortErrorKind::Conflict,
                        format!("create build {at}: its key is being claimed"),
                    )),
                }
            }
            Err(e) => Err(io_error(&e, format!("claim key of {at}"))),
        }
    }

    fn find_sync(&self, key: &str) -> Result<Option<Build>, PortError> {
        let path = self.path(&layout::idempotency_key(key));
        // The winner of a key writes its record before the key, so the record is there.
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&e, format!("read key {key}"))),
        };
        let at = layout::parse_build_ref(&text).ok_or_else(|| {
            PortError::new(PortErrorKind::Permanent, format!("key {key} names no build"))
        })?;
        self.read_record(&at).map(Some)
    }

    fn update_sync(&self, build: &Build) -> Result<Build, PortError> {
        let at = build.build_ref();
        let lock_path = self.path(&format!("{}build.lock", layout::build_prefix(&at)));
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_error(&e, format!("lock build record of {at}")))?;
        lock.lock().map_err(|e| io_error(&e, format!("lock build record of {at}")))?;
        let current = self.read_record(&at)?;
        if current.revision != build.revision {
            return Err(PortError::new(
                PortErrorKind::Conflict,
                format!(
                    "update build {at}: revision {} is stored, not {}",
                    current.revision, build.revision
                ),
            ));
        }
        let mut stored = build.clone();
        stored.revision = build.revision + 1;
        self.write_json(&layout::record_key(&at), &stored)?;
        if stored.state.is_terminal() {
            match fs::remove_file(self.path(&layout::open_key(&at))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&e, format!("unmark {at} open"))),
            }
        }
        drop(lock);
        Ok(stored)
    }

    fn list_open_sync(&self) -> Result<Vec<Build>, PortError> {
        let mut out = Vec::new();
        let open = self.path("open");
        for project in read_dir_names(&open).map_err(|e| io_error(&e, "list open builds"))? {
            for number in read_dir_names(&open.join(&project))
                .map_err(|e| io_error(&e, "list open builds"))?
            {
                let Some(at) = layout::parse_build_ref(&format!("{project}/{number}")) else {
                    continue;
                };
                match self.read_record(&at) {
                    Ok(b) if !b.state.is_terminal() => out.push(b),
                    Ok(_) => {}
                    Err(e) if e.kind == PortErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        out.sort_by_key(|b| b.start_time);
        Ok(out)
    }

    fn list_recent_sync(
        &self,
        project: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Build>, PortError> {
        let builds = self.path("builds");
        let projects = match project {
            Some(p) => vec![p.to_owned()],
            None => read_dir_names(&builds).map_err(|e| io_error(&e, "list builds"))?,
        };
        let mut refs = Vec::new();
        for p in projects {
            for n in read_dir_names(&builds.join(&p)).map_err(|e| io_error(&e, "list builds"))? {
                if let Some(at) = layout::parse_build_ref(&format!("{p}/{n}")) {
                    refs.push(at);
                }
            }
        }
        let mut out = Vec::new();
        for at in refs {
            match self.read_record(&at) {
                Ok(b) => out.push(b),
                Err(e) if e.kind == PortErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| {
            b.start_time.cmp(&a.start_time).then_with(|| b.identity.number.cmp(&a.identity.number))
        });
        out.truncate(limit);
        Ok(out)
    }

    fn get_summary_sync(&self, build: &BuildRef) -> Result<Option<BuildSummary>, PortError> {
        let key = layout::summary_key(build);
        let bytes = match read_limited(&self.path(&key)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&e, format!("read {key}"))),
        };
        BuildSummary::from_json(&bytes).map(Some).map_err(|e| {
            PortError::new(PortErrorKind::Permanent, format!("read {key}")).with_source(e)
        })
    }
}

impl BuildStore for FsBuildStore {
    fn claim_number<'a>(&'a self, project: &'a str) -> PortFuture<'a, u64> {
        Box::pin(async move {
            self.claim_sync(project)
                .map_err(|e| io_error(&e, format!("claim a build number of {project}")))
        })
    }

    fn create<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Created> {
        Box::pin(async move { self.create_sync(build) })
    }

    fn find<'a>(&'a self, key: &'a str) -> PortFuture<'a, Option<Build>> {
        Box::pin(async move { self.find_sync(key) })
    }

    fn read<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Build> {
        Box::pin(async move { self.read_record(build) })
    }

    fn update<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Build> {
        Box::pin(async move { self.update_sync(build) })
    }

    fn list_open<'a>(&'a self) -> PortFuture<'a, Vec<Build>> {
        Box::pin(async move { self.list_open_sync() })
    }

    fn list_recent<'a>(
        &'a self,
        project: Option<&'a str>,
        limit: usize,
    ) -> PortFuture<'a, Vec<Build>> {
        Box::pin(async move { self.list_recent_sync(project, limit) })
    }

    fn put_summary<'a>(
        &'a self,
        build: &'a BuildRef,
        summary: &'a BuildSummary,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move { self.write_json(&layout::summary_key(build), summary) })
    }

    fn get_summary<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Option<BuildSummary>> {
        Box::pin(async move { self.get_summary_sync(build) })
    }
}

fn io_error(e: &io::Error, operation: impl std::fmt::Display) -> PortError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => PortErrorKind::NotFound,
        io::ErrorKind::AlreadyExists => PortErrorKind::Conflict,
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            PortErrorKind::Unavailable
        }
        _ => PortErrorKind::Permanent,
    };
    PortError::new(kind, operation).with_source(io::Error::new(e.kind(), e.to_string()))
}

fn read_limited(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs::File::open(path)?.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(io::Error::other(format!(
            "{} is larger than {MAX_DOCUMENT_BYTES} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("no parent directory"))?;
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn touch(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).map(drop)
}

fn read_dir_names(dir: &Path) -> io::Result<Vec<String>> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime")
    }

    #[test]
    fn numbers_never_repeat_across_stores_and_threads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    // Half the threads share one store (its hint), half have their own, as
                    // several `kiln` processes would.
                    let store = FsBuildStore::new(&path);
                    let rt = runtime();
                    (0..10)
                        .map(|_| rt.block_on(store.claim_number("p")).expect("claim"))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .map(move |n| (i, n))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut got: Vec<u64> =
            handles.into_iter().flat_map(|h| h.join().expect("thread")).map(|(_, n)| n).collect();
        got.sort_unstable();
        assert_eq!(got, (1..=80).collect::<Vec<_>>());
        let shared = FsBuildStore::new(dir.path());
        let rt = runtime();
        assert_eq!(rt.block_on(shared.claim_number("p")).expect("claim"), 81);
        assert_eq!(rt.block_on(shared.claim_number("p")).expect("claim"), 82);
        assert_eq!(rt.block_on(shared.claim_number("other")).expect("claim"), 1);
    }
}
