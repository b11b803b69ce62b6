//! `EventBridgeBuildEvents`: the [`BuildEvents`] port on the default EventBridge bus: each build
//! state change is one `PutEvents` entry with source `kiln`, detail type `Kiln Build State
//! Change`, the build's ARN as its resource and the detail as CodeBuild shapes it. The logs'
//! group and stream are filled in from the installation (`KILN_LOG_GROUP`, the awslogs stream
//! of the build's task) when the agent's summary did not name them.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use kiln_core::notify::{BuildStateChange, DETAIL_TYPE, SOURCE};
use kiln_core::ports::{BuildEvents, PortError, PortErrorKind, PortFuture};

use crate::error::{classify, port_error};
use crate::logs::log_stream_name;

/// Puts build state changes on the account's default event bus.
#[derive(Debug, Clone)]
pub struct EventBridgeBuildEvents {
    client: crate::LazyClient<Client>,
    log_group: Option<String>,
}

impl EventBridgeBuildEvents {
    /// Events through the EventBridge client of `sdk`; `log_group` is the build log group
    /// (`KILN_LOG_GROUP`), when known.
    pub fn new(sdk: &aws_config::SdkConfig, log_group: Option<String>) -> Self {
        Self { client: crate::LazyClient::new(sdk, Client::new), log_group }
    }

    /// The entry `change` is put as.
    pub fn entry(&self, change: &BuildStateChange) -> Result<PutEventsRequestEntry, PortError> {
        let mut detail = change.clone();
        let logs = &mut detail.additional_information.logs;
        if logs.group_name.is_none() {
            logs.group_name.clone_from(&self.log_group);
        }
        if logs.stream_name.is_none() && logs.group_name == self.log_group {
            logs.stream_name =
                change.task.as_ref().map(|t| log_stream_name(&change.project_name, &t.0));
        }
        let json = serde_json::to_string(&detail).map_err(|e| {
            PortError::new(PortErrorKind::Permanent, "write the build state change").with_source(e)
        })?;
        Ok(PutEventsRequestEntry::builder()
            .source(SOURCE)
            .detail_type(DETAIL_TYPE)
            .resources(&change.build_id)
            .detail(json)
            .build())
    }

    async fn publish_inner(&self, change: &BuildStateChange) -> Result<(), PortError> {
        let op = || {
            format!("put {} of {} on the default event bus", change.build_status, change.build_id)
        };
        let output = self
            .client
            .put_events()
            .entries(self.entry(change)?)
            .send()
            .await
            .map_err(|e| port_error(op(), e))?;
        if output.failed_entry_count() == 0 {
            return Ok(());
        }
        let failure = output.entries().iter().find(|e| e.error_code().is_some());
        let code = failure.and_then(|e| e.error_code());
        let message = failure.and_then(|e| e.error_message()).unwrap_or("no reason given");
        let kind = match classify(code, None) {
            PortErrorKind::Permanent if code == Some("InternalFailure") => {
                PortErrorKind::Unavailable
            }
            kind => kind,
        };
        Err(PortError::new(kind, format!("{}: {} {message}", op(), code.unwrap_or("failed"))))
    }
}

impl BuildEvents for EventBridgeBuildEvents {
    fn publish<'a>(&'a self, change: &'a BuildStateChange) -> PortFuture<'a, ()> {
        Box::pin(self.publish_inner(change))
    }
}
