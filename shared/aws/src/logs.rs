//! `CloudWatchLogsReader`: a build's log events from CloudWatch Logs, for the build pages.
//!
//! The awslogs driver writes the build container's stdout to the stream
//! `<prefix>/build/<task id>` of the log group, where the prefix is the project
//! ([`log_stream_name`]). The reader pages forward through `GetLogEvents` from the start (or
//! from a token a previous read returned), up to a bound, so a page can show a long log in
//! pieces.

use aws_sdk_cloudwatchlogs::Client;
use kiln_core::ports::{PortError, PortErrorKind};

use crate::error::{port_error, service_code};

/// The stream the awslogs driver writes the `build` container of task `task_arn` of `project`
/// to: `<project>/build/<task id>`.
pub fn log_stream_name(project: &str, task_arn: &str) -> String {
    let task_id = task_arn.rsplit('/').next().unwrap_or(task_arn);
    format!("{project}/{}/{task_id}", crate::ecs::BUILD_CONTAINER)
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// When the line was written, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The line, without its newline.
    pub message: String,
}

/// A stretch of a build's log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogPage {
    /// The events, oldest first.
    pub events: Vec<LogEvent>,
    /// Where to go on reading from (CloudWatch's forward token); the same token comes back
    /// while nothing new was written.
    pub next_token: Option<String>,
    /// Whether the reader stopped at its bound (more events may be waiting: read on from
    /// [`LogPage::next_token`]).
    pub truncated: bool,
}

/// Reads build logs from one log group.
#[derive(Debug, Clone)]
pub struct CloudWatchLogsReader {
    client: crate::LazyClient<Client>,
    log_group: String,
}

impl CloudWatchLogsReader {
    /// A reader of `log_group` (`KILN_LOG_GROUP`) over the client of `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig, log_group: impl Into<String>) -> Self {
        Self { client: crate::LazyClient::new(sdk, Client::new), log_group: log_group.into() }
    }

    /// A reader of `log_group` over `client`.
    pub fn from_client(client: Client, log_group: impl Into<String>) -> Self {
        Self { client: crate::LazyClient::ready(client), log_group: log_group.into() }
    }

    /// At most `limit` events of `stream`, oldest first, from its start or from `token` (a
    /// [`LogPage::next_token`]). A stream that does not exist yet (the task has not started
    /// writing) reads as empty.
    ///
    /// # Errors
    /// The service's error, mapped to a [`PortError`] naming the stream.
    pub async fn read(
        &self,
        stream: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<LogPage, PortError> {
        let op = || format!("read log stream {}/{stream}", self.log_group);
        let mut page = LogPage { next_token: token.map(str::to_owned), ..LogPage::default() };
        while page.events.len() < limit {
            let want = i32::try_from((limit - page.events.len()).min(10_000)).unwrap_or(10_000);
            let answer = self
                .client
                .get_log_events()
                .log_group_name(&self.log_group)
                .log_stream_name(stream)
                .start_from_head(true)
                .set_next_token(page.next_token.clone())
                .limit(want)
                .send()
                .await;
            let output = match answer {
                Ok(output) => output,
                Err(e) if service_code(&e) == Some("ResourceNotFoundException") => {
                    return Ok(page);
                }
                Err(e) => return Err(port_error(op(), e)),
            };
            let got = output.events().len();
            page.events.extend(output.events().iter().map(|e| LogEvent {
                timestamp_ms: e.timestamp().unwrap_or(0),
                message: e.message().unwrap_or_default().trim_end_matches('\n').to_owned(),
            }));
            let next = output.next_forward_token().map(str::to_owned);
            let same = next.is_some() && next == page.next_token;
            if next.is_none() && got > 0 {
                return Err(PortError::new(
                    PortErrorKind::Unavailable,
                    format!("{}: no forward token", op()),
                ));
            }
            page.next_token = next;
            if got == 0 || same {
                return Ok(page);
            }
        }
        page.truncated = true;
        Ok(page)
    }

    /// At most `limit` events of the log of task `task_arn` of `project`, from the start.
    ///
    /// # Errors
    /// See [`CloudWatchLogsReader::read`].
    pub async fn build_log(
        &self,
        project: &str,
        task_arn: &str,
        limit: usize,
    ) -> Result<LogPage, PortError> {
        self.read(&log_stream_name(project, task_arn), None, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_follow_awslogs() {
        assert_eq!(
            log_stream_name("web", "arn:aws:ecs:us-east-1:1:task/kiln/0123abcd"),
            "web/build/0123abcd"
        );
    }
}
