//! A scheduled event in, `service::sweep` out: builds past their deadline stopped (TIMED_OUT),
//! builds whose task ended or vanished without a final status finalized from `DescribeTasks`
//! and the agent's summary in S3, final statuses GitHub never confirmed posted again; at most
//! [`SweepPolicy::max_builds`] builds per run. A sweep never fails as a call: what it could not
//! do this run, the next run (five minutes later) tries again.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use kiln_core::service::{self, SweepPolicy};
use kiln_lambda::{CloudPorts, HandlerError};
use serde::Serialize;

/// What the function needs.
#[derive(Debug)]
pub struct Sweeper {
    /// The services' ports.
    pub ports: CloudPorts,
    /// How builds are judged.
    pub policy: SweepPolicy,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Builds finalized (`<project> #<n>`).
    pub finalized: Vec<String>,
    /// Builds stopped past their deadline.
    pub timed_out: Vec<String>,
    /// Builds whose final status was posted again.
    pub reposted: Vec<String>,
    /// Builds left for the next run.
    pub failed: usize,
}

impl Sweeper {
    /// Sweeps once.
    ///
    /// # Errors
    /// None so far: a sweep's failures are left for the next run.
    #[tracing::instrument(skip_all, fields(rule = ?event.resources))]
    pub async fn handle(
        &self,
        event: EventBridgeEvent<serde_json::Value>,
    ) -> Result<Outcome, HandlerError> {
        let report = service::sweep(self.ports.ports(), &self.policy).await;
        let names = |b: &[kiln_core::build::BuildRef]| b.iter().map(ToString::to_string).collect();
        let outcome = Outcome {
            finalized: names(&report.finalized),
            timed_out: names(&report.timed_out),
            reposted: names(&report.reposted),
            failed: report.failed,
        };
        tracing::info!(
            finalized = outcome.finalized.len(),
            timed_out = outcome.timed_out.len(),
            reposted = outcome.reposted.len(),
            failed = outcome.failed,
            "swept"
        );
        Ok(outcome)
    }
}
