//! A CloudWatch Logs subscription payload in, `service::relay` out: the payload decoded
//! (`kiln_core::logs::cloudwatch`), control messages ignored, the stream
//! (`<project>/build/<task id>`) mapped to its build (`service::build_of_stream`, remembered
//! for the function's life), the lines appended to the build's log archive with progress on
//! its pending status. A payload that cannot be decoded, or a stream of no build, is dropped;
//! a store or archive that failed is retried.

use std::collections::HashMap;

use kiln_aws::S3LogArchive;
use kiln_core::build::BuildRef;
use kiln_core::logs::{LogsEnvelope, MessageType};
use kiln_core::ports::PortError;
use kiln_core::service::{self, RelayPolicy};
use kiln_lambda::{CloudPorts, HandlerError, LazyGitHub};
use serde::Serialize;
use tokio::sync::Mutex;

/// What the function needs.
pub struct LogRelay {
    /// The services' ports.
    pub ports: CloudPorts,
    /// The log archive.
    pub archive: S3LogArchive,
    /// kiln's GitHub side: its credential is masked in every line.
    pub github: LazyGitHub,
    /// How often progress is posted.
    pub policy: RelayPolicy,
    /// Which build each stream seen so far belongs to.
    pub streams: Mutex<HashMap<String, BuildRef>>,
}

impl std::fmt::Debug for LogRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogRelay").field("policy", &self.policy).finish_non_exhaustive()
    }
}

/// What a payload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Outcome {
    /// Nothing to relay.
    Ignored {
        /// Why.
        reason: String,
    },
    /// Relayed.
    Relayed {
        /// `<project> #<n>`.
        build: String,
        /// Lines appended (0 for a batch appended before).
        appended: usize,
        /// The progress description posted, if one was.
        #[serde(skip_serializing_if = "Option::is_none")]
        progress: Option<String>,
    },
}

fn ignored(reason: impl Into<String>) -> Outcome {
    Outcome::Ignored { reason: reason.into() }
}

impl LogRelay {
    /// Handles one payload.
    ///
    /// # Errors
    /// [`HandlerError`]: permanent for a payload that cannot be decoded, retryable when a
    /// store failed.
    #[tracing::instrument(skip_all)]
    pub async fn handle(&self, event: LogsEnvelope) -> Result<Outcome, HandlerError> {
        let message = event.decode().map_err(HandlerError::permanent)?;
        if message.message_type == MessageType::ControlMessage {
            return Ok(ignored("a control message"));
        }
        let Some(build) = self.build_of(&message.log_stream).await? else {
            return Ok(ignored(format!("stream {} is no build's", message.log_stream)));
        };
        let github = self.github.get().await.map_err(PortError::from)?;
        let relayed = service::relay(
            self.ports.ports(),
            &self.archive,
            github.masker(),
            &self.policy,
            &build,
            &message.log_events,
        )
        .await
        .map_err(|e| HandlerError::classed(e.is_retryable(), e))?;
        Ok(Outcome::Relayed {
            build: build.to_string(),
            appended: relayed.appended,
            progress: relayed.progress,
        })
    }

    async fn build_of(&self, stream: &str) -> Result<Option<BuildRef>, HandlerError> {
        if let Some(known) = self.streams.lock().await.get(stream) {
            return Ok(Some(known.clone()));
        }
        let found = service::build_of_stream(&self.ports.builds, stream).await?;
        let Some(build) = found.map(|b| b.build_ref()) else { return Ok(None) };
        self.streams.lock().await.insert(stream.to_owned(), build.clone());
        Ok(Some(build))
    }
}
