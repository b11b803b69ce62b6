//! The use cases, one per entry point, generic over the ports: the only code that orders port
//! calls. `kiln run`, `kiln serve`, the agent and the Lambda functions all call these and differ
//! only in the adapters they pass.
//!
//! - [`intake`]: a delivery in → verified, resolved, recorded, each new build launched;
//! - [`launch`]: a recorded build → `pending` on GitHub → a task started;
//! - [`relay`]: a batch of a build's log lines → its log archive, progress on its pending
//!   status;
//! - [`finalize`]: a task's end → the final record → the final commit status;
//! - [`sweep`]: builds past their deadline stopped, builds whose task is gone finalized, failed
//!   status posts retried.
//!
//! The invariant they keep together: every build kiln accepts ends with a terminal record and
//! a terminal commit status, whatever fails in between. A build's record is written before
//! anything is started; every later step is a compare-and-swap on it; a terminal record is
//! never changed again.

mod announce;
mod create;
mod finalize;
mod intake;
mod launch;
mod relay;
mod report;
mod supersede;
mod sweep;

use crate::ports::{BuildEvents, BuildStore, Clock, SourceHost, StatusReporter, TaskRunner};
use crate::status::PageLinks;

pub use create::{BuildPlan, create_build};
pub use finalize::{Conclusion, FinalizeError, conclude, finalize};
pub use intake::{
    Accepted, AcceptedBuild, IntakeError, IntakeReply, Projects, ReplyBuild, accept, intake,
    plan_for_delivery, resolve_delivery, start_accepted,
};
pub use launch::{LaunchError, launch};
pub use relay::{RelayError, RelayPolicy, Relayed, build_of_stream, relay, stream_task};
pub use report::report_status;
pub use supersede::supersede_older;
pub use sweep::{SweepPolicy, SweepReport, sweep};

/// The ports the services talk to.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    /// Build records, numbers, summaries.
    pub builds: &'a dyn BuildStore,
    /// Where builds run.
    pub runner: &'a dyn TaskRunner,
    /// Where commit statuses go.
    pub statuses: &'a dyn StatusReporter,
    /// The Git host: pull request details and files at a commit.
    pub source: &'a dyn SourceHost,
    /// The time.
    pub clock: &'a dyn Clock,
    /// Where build state changes are announced.
    pub events: &'a dyn BuildEvents,
}

impl std::fmt::Debug for Ports<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// What the services know of the installation they serve.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The AWS region builds belong to (`AWS_REGION` of their environment, status contexts).
    pub region: String,
    /// The account id in build ARNs.
    pub account: String,
    /// How build pages are linked from commit statuses; `None` for no link.
    pub pages: Option<PageLinks>,
}

impl Settings {
    /// Settings for builds on one machine: `region` or [`crate::project::DEFAULT_REGION`],
    /// `account` or [`crate::project::LOCAL_ACCOUNT`], no pages.
    pub fn local(region: Option<String>, account: Option<String>) -> Self {
        Self {
            region: region.unwrap_or_else(|| crate::project::DEFAULT_REGION.to_owned()),
            account: account.unwrap_or_else(|| crate::project::LOCAL_ACCOUNT.to_owned()),
            pages: None,
        }
    }
}

/// How many times a service re-reads and retries a compare-and-swap that lost a race before
/// giving up (each loss means someone else moved the record; a handful is plenty).
const CAS_ATTEMPTS: usize = 8;
