//! `FsLogArchive`: the [`LogArchive`] port as files under the data directory: the log at
//! `DATA_DIR/builds/<project>/<n>/build.log` (the state bucket's key), and the relay's mark
//! and the archive's version beside it in `build.log.relay.json`.
//!
//! Writes go to temporary files renamed into place (readers see whole files), and one lock per
//! archive serializes compare-and-swap within the process. It serves one process (tests, a
//! local relay); it does not lock across processes as `FsBuildStore` does.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kiln_core::build::{BuildRef, layout};
use kiln_core::logs::RelayMark;
use kiln_core::ports::{ArchivedLog, LogArchive, PortError, PortErrorKind, PortFuture};

/// Build logs on disk under a data directory.
#[derive(Debug, Clone, Default)]
pub struct FsLogArchive {
    root: PathBuf,
    locks: Arc<Mutex<HashMap<BuildRef, Arc<Mutex<()>>>>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Sidecar {
    version: u64,
    mark: RelayMark,
}

impl FsLogArchive {
    /// An archive under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self { root: data_dir.into(), locks: Arc::default() }
    }

    /// Where the log of `build` is.
    pub fn log_path(&self, build: &BuildRef) -> PathBuf {
        self.root.join(layout::log_key(build))
    }

    fn sidecar_path(&self, build: &BuildRef) -> PathBuf {
        let mut path = self.log_path(build).into_os_string();
        path.push(".relay.json");
        PathBuf::from(path)
    }

    fn lock(&self, build: &BuildRef) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(build.clone()).or_default().clone()
    }

    fn read_sync(&self, build: &BuildRef) -> io::Result<Option<ArchivedLog>> {
        let sidecar = match std::fs::read(self.sidecar_path(build)) {
            Ok(bytes) => serde_json::from_slice::<Sidecar>(&bytes).map_err(io::Error::other)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = match std::fs::read(self.log_path(build)) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(Some(ArchivedLog { text, mark: sidecar.mark, version: sidecar.version.to_string() }))
    }

    fn write_sync(
        &self,
        build: &BuildRef,
        text: &[u8],
        mark: &RelayMark,
        replacing: Option<&str>,
    ) -> Result<(), PortError> {
        let op = || format!("write the log archive of {build}");
        let io = |e: io::Error| PortError::new(PortErrorKind::Unavailable, op()).with_source(e);
        let lock = self.lock(build);
        let _held = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.read_sync(build).map_err(io)?;
        let version = match (current.as_ref().map(|a| a.version.as_str()), replacing) {
            (None, None) => 1,
            (Some(stored), Some(given)) if stored == given => {
                stored.parse::<u64>().unwrap_or(0) + 1
            }
            _ => return Err(PortError::new(PortErrorKind::Conflict, op())),
        };
        let sidecar = serde_json::to_vec(&Sidecar { version, mark: mark.clone() })
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        replace(&self.log_path(build), text).map_err(io)?;
        replace(&self.sidecar_path(build), &sidecar).map_err(io)
    }
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

impl LogArchive for FsLogArchive {
    fn read<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Option<ArchivedLog>> {
        Box::pin(async move {
            let lock = self.lock(build);
            let _held = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.read_sync(build).map_err(|e| {
                PortError::new(
                    PortErrorKind::Unavailable,
                    format!("read the log archive of {build}"),
                )
                .with_source(e)
            })
        })
    }

    fn write<'a>(
        &'a self,
        build: &'a BuildRef,
        text: Vec<u8>,
        mark: &'a RelayMark,
        replacing: Option<&'a str>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move { self.write_sync(build, &text, mark, replacing) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_compare_and_swap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = FsLogArchive::new(dir.path());
        let at = BuildRef::new("web", 1);
        assert_eq!(archive.read(&at).await.expect("read"), None);
        let mut mark = RelayMark::default();
        mark.remember_batch("1");
        archive.write(&at, b"a\n".to_vec(), &mark, None).await.expect("first write");
        let conflict = archive.write(&at, b"x\n".to_vec(), &mark, None).await;
        assert_eq!(conflict.err().map(|e| e.kind), Some(PortErrorKind::Conflict));
        let first = archive.read(&at).await.expect("read").expect("archived");
        assert_eq!(first.text, b"a\n");
        assert_eq!(first.mark, mark);
        archive.write(&at, b"a\nb\n".to_vec(), &mark, Some(&first.version)).await.expect("swap");
        let stale = archive.write(&at, b"c\n".to_vec(), &mark, Some(&first.version)).await;
        assert_eq!(stale.err().map(|e| e.kind), Some(PortErrorKind::Conflict));
        assert_eq!(std::fs::read(archive.log_path(&at)).expect("log"), b"a\nb\n");
    }
}
