//! The server's background work: starting accepted builds, finalizing each build when its
//! child exits, ending what a previous run left open, and the periodic sweep.

use std::sync::Arc;
use std::time::Duration;

use kiln_core::service::{self, AcceptedBuild, SweepPolicy};
use kiln_local::TaskEnded;
use tokio::sync::mpsc;

use super::app::App;

/// How often the sweeper runs.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Starts `builds` (buildspec check, `pending`, the task) behind the reply.
pub fn start(app: &Arc<App>, builds: Vec<AcceptedBuild>) {
    for build in builds {
        let app = Arc::clone(app);
        tokio::spawn(async move {
            service::start_accepted(app.ports(), build).await;
        });
    }
}

/// Finalizes each build whose task ended, as its end arrives.
pub async fn finalizer(app: Arc<App>, mut ended: mpsc::UnboundedReceiver<TaskEnded>) {
    while let Some(end) = ended.recv().await {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            if let Err(e) = service::finalize(app.ports(), &end.build, Some(end.stop)).await {
                tracing::warn!(build = %end.build, error = %kiln_core::error_chain(&e), "finalize; the sweeper will retry");
            }
        });
    }
}

/// Ends the builds a previous run of the server left open: their children died with it.
pub async fn recover(app: &App) {
    let policy = SweepPolicy {
        queued_grace_ms: 0,
        lost_reason: "kiln restarted".to_owned(),
        ..SweepPolicy::default()
    };
    let report = service::sweep(app.ports(), &policy).await;
    if !report.finalized.is_empty() || !report.reposted.is_empty() {
        eprintln!(
            "kiln serve: ended {} build(s) left open by the previous run, posted {} status(es) again",
            report.finalized.len(),
            report.reposted.len()
        );
    }
}

/// Sweeps every [`SWEEP_EVERY`]: statuses GitHub refused are posted again, builds past their
/// deadline stopped.
pub async fn sweeper(app: Arc<App>) {
    let policy = SweepPolicy::default();
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let report = service::sweep(app.ports(), &policy).await;
        tracing::debug!(?report, "sweep");
    }
}
