//! CloudWatch Logs subscription payloads: the `{"awslogs": {"data": …}}` envelope a subscribed
//! Lambda function receives, decoded (base64, then gzip, then JSON) into its messages, and
//! encoded back (for tests and tools that play CloudWatch Logs).
//!
//! A payload is either a `DATA_MESSAGE` (log events of one stream) or a `CONTROL_MESSAGE`
//! (CloudWatch checking that the destination is reachable), which carries no build log.
//! Decoding is bounded: a payload that inflates past [`MAX_DECODED_BYTES`] is refused, so a
//! hostile or broken payload cannot exhaust the function's memory.

use std::io::Read;

use base64::Engine;
use serde::{Deserialize, Serialize};

/// The most a payload may inflate to (CloudWatch sends at most about 1 MB of events per
/// invocation; the margin is generous).
pub const MAX_DECODED_BYTES: u64 = 16 << 20;

/// What a subscribed Lambda function receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsEnvelope {
    /// The payload.
    pub awslogs: AwsLogs,
}

/// `awslogs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsLogs {
    /// The payload: gzip, then base64.
    pub data: String,
}

/// The kind of a subscription message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageType {
    /// Log events.
    DataMessage,
    /// CloudWatch checking the destination; no log.
    ControlMessage,
}

/// One decoded subscription message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsMessage {
    /// Data or control.
    pub message_type: MessageType,
    /// The account that owns the log group.
    pub owner: String,
    /// The log group.
    pub log_group: String,
    /// The stream the events are from.
    pub log_stream: String,
    /// The subscription filters that matched.
    #[serde(default)]
    pub subscription_filters: Vec<String>,
    /// The events, in the stream's order.
    #[serde(default)]
    pub log_events: Vec<LogsEvent>,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsEvent {
    /// CloudWatch's id of the event: unique in its stream.
    pub id: String,
    /// When it was written, epoch milliseconds.
    pub timestamp: i64,
    /// The line (the awslogs driver strips its newline).
    pub message: String,
}

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// `awslogs.data` is not base64.
    #[error("decode the logs payload's base64")]
    Base64(#[source] base64::DecodeError),
    /// Not gzip, or cut short.
    #[error("inflate the logs payload")]
    Gzip(#[source] std::io::Error),
    /// Larger than [`MAX_DECODED_BYTES`] inflated.
    #[error("inflate the logs payload: larger than {MAX_DECODED_BYTES} bytes")]
    TooLarge,
    /// Not a subscription message.
    #[error("read the logs payload as a subscription message")]
    Json(#[source] serde_json::Error),
}

impl LogsEnvelope {
    /// Decodes the payload.
    ///
    /// # Errors
    /// [`DecodeError`] when it is not base64 of gzip of a subscription message.
    pub fn decode(&self) -> Result<LogsMessage, DecodeError> {
        decode(&self.awslogs.data)
    }
}

/// Decodes `data` (an `awslogs.data` value).
///
/// # Errors
/// [`DecodeError`] when it is not base64 of gzip of a subscription message.
pub fn decode(data: &str) -> Result<LogsMessage, DecodeError> {
    decode_within(data, MAX_DECODED_BYTES)
}

fn decode_within(data: &str, max: u64) -> Result<LogsMessage, DecodeError> {
    let gzip = base64::engine::general_purpose::STANDARD
        .decode(data.trim().as_bytes())
        .map_err(DecodeError::Base64)?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gzip.as_slice())
        .take(max + 1)
        .read_to_end(&mut json)
        .map_err(DecodeError::Gzip)?;
    if json.len() as u64 > max {
        return Err(DecodeError::TooLarge);
    }
    serde_json::from_slice(&json).map_err(DecodeError::Json)
}

/// The envelope CloudWatch Logs would send for `message`.
pub fn encode(message: &LogsMessage) -> LogsEnvelope {
    let json = serde_json::to_vec(message).unwrap_or_default();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = std::io::Write::write_all(&mut gzip, &json);
    let bytes = gzip.finish().unwrap_or_default();
    LogsEnvelope {
        awslogs: AwsLogs { data: base64::engine::general_purpose::STANDARD.encode(bytes) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical payload of `aws_lambda_events`'s and `sam local generate-event`'s samples.
    const SAMPLE: &str = "H4sIAAAAAAAAAHWPwQqCQBCGX0Xm7EFtK+smZBEUgXoLCdMhFtKV3akI8d0bLYmibvPPN3wz00CJxmQnTO41whwWQRIctmEcB6sQbFC3CjW3XW8kxpOpP+OC22d1Wml1qZkQGtoMsScxaczKN3plG8zlaHIta5KqWsozoTYw3/djzwhpLwivWFGHGpAFe7DL68JlBUk+l7KSN7tCOEJ4M3/qOI49vMHj+zCKdlFqLaU2ZHV2a4Ct/an0/ivdX8oYc1UVX860fQDQiMdxRQEAAA==";

    #[test]
    fn the_canonical_sample_decodes() {
        let m = decode(SAMPLE).expect("decodes");
        assert_eq!(m.message_type, MessageType::DataMessage);
        assert_eq!(m.log_group, "testLogGroup");
        assert_eq!(m.log_stream, "testLogStream");
        assert_eq!(m.log_events.len(), 2);
        assert_eq!(m.log_events[0].message, "[ERROR] First test message");
        assert_eq!(m.log_events[0].timestamp, 1_440_442_987_000);
    }

    #[test]
    fn encoding_round_trips_and_control_messages_read() {
        let control = LogsMessage {
            message_type: MessageType::ControlMessage,
            owner: "CloudwatchLogs".into(),
            log_group: String::new(),
            log_stream: String::new(),
            subscription_filters: Vec::new(),
            log_events: vec![LogsEvent {
                id: String::new(),
                timestamp: 1_600_110_003_794,
                message: "CWL CONTROL MESSAGE: Checking health of destination Firehose.".into(),
            }],
        };
        assert_eq!(encode(&control).decode().expect("decodes"), control);
    }

    #[test]
    fn garbage_and_bombs_are_refused() {
        assert!(matches!(decode("not base64!"), Err(DecodeError::Base64(_))));
        assert!(matches!(decode("aGVsbG8="), Err(DecodeError::Gzip(_))));
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gzip, &vec![b' '; 1 << 16]).expect("write");
        let bomb = base64::engine::general_purpose::STANDARD.encode(gzip.finish().expect("gzip"));
        assert!(matches!(decode_within(&bomb, 1 << 15), Err(DecodeError::TooLarge)));
    }
}
