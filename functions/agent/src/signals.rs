//! The signals that stop a build: SIGINT (Ctrl-C), SIGTERM (`kill`, `docker stop`, ECS
//! stopping the task) and SIGHUP (the terminal went away) all set the build's stop flag, so the
//! build ends STOPPED with its summary written and every process killed.
//!
//! Once [`watch`] runs, these signals no longer end kiln at once; a second one does nothing
//! more [INF: the build's processes get a grace period of seconds, not minutes].

use tokio::signal::unix::{SignalKind, signal};

use crate::shell::StopFlag;

/// Why the signals could not be watched.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// A handler could not be installed.
    #[error("watch for {0}")]
    Install(&'static str, #[source] std::io::Error),
}

/// Sets `stop` on the first SIGINT, SIGTERM or SIGHUP. Spawn it on the tokio runtime the
/// build runs on; it returns once a signal came, or at once when a handler cannot be
/// installed.
pub async fn watch(stop: StopFlag) -> Result<(), SignalError> {
    let install = |kind: SignalKind, name: &'static str| {
        signal(kind).map_err(|e| SignalError::Install(name, e))
    };
    let mut interrupt = install(SignalKind::interrupt(), "SIGINT")?;
    let mut terminate = install(SignalKind::terminate(), "SIGTERM")?;
    let mut hangup = install(SignalKind::hangup(), "SIGHUP")?;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        _ = hangup.recv() => {}
    }
    stop.stop();
    Ok(())
}
