//! `CloudWatchLogsReader` against the emulator: a build's events, forward and paged.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use kiln_aws::{CloudWatchLogsReader, log_stream_name};

use crate::support;

#[tokio::test]
async fn a_build_log_reads_forward_in_pages() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let group = format!("/kiln/{}", support::unique("builds"));
    let task = "arn:aws:ecs:us-east-1:123456789012:task/kiln/4f1c2b7d9e8a4b6c";
    let stream = log_stream_name("web", task);
    assert!(logs.create_log_group().log_group_name(&group).send().await.is_ok());
    assert!(
        logs.create_log_stream()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .send()
            .await
            .is_ok()
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    let events: Vec<InputLogEvent> = (0..25)
        .map(|i| {
            InputLogEvent::builder()
                .timestamp(now + i)
                .message(format!("[Container] line {i}\n"))
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let put = logs
        .put_log_events()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .set_log_events(Some(events))
        .send()
        .await;
    assert!(put.is_ok(), "{put:?}");
    let reader = CloudWatchLogsReader::new(&sdk, &group);
    let all = reader.build_log("web", task, 100).await.ok().unwrap_or_default();
    assert_eq!(all.events.len(), 25);
    assert!(!all.truncated);
    assert_eq!(all.events[0].message, "[Container] line 0");
    assert_eq!(all.events[24].message, "[Container] line 24");
    assert!(all.events.windows(2).all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
    let first = reader.read(&stream, None, 10).await.ok().unwrap_or_default();
    assert_eq!(first.events.len(), 10);
    assert!(first.truncated);
    let rest =
        reader.read(&stream, first.next_token.as_deref(), 100).await.ok().unwrap_or_default();
    let messages: Vec<&str> = rest.events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.first().copied(), Some("[Container] line 10"));
    assert_eq!(messages.len(), 15);
    let none = reader.read("web/build/absent", None, 10).await.ok().unwrap_or_default();
    assert!(none.events.is_empty());
}
