//! Timestamps on the wire: ISO 8601 as `aws codebuild batch-get-builds` prints them
//! (`2026-11-21T04:13:27.123000+00:00`), read back from that form, RFC 3339, or epoch seconds
//! (the API's own JSON form), and kept as epoch milliseconds.

use serde::{Deserialize, Deserializer, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `ms` (epoch milliseconds) as the AWS CLI prints a timestamp, in UTC with microseconds.
pub fn format_ms(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return ms.to_string();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Reads a timestamp written by [`format_ms`], any RFC 3339 time, or epoch seconds.
pub fn parse_ms(text: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    let seconds: f64 = text.parse().ok()?;
    seconds_to_ms(seconds)
}

#[expect(clippy::cast_possible_truncation, reason = "range-checked just before")]
fn seconds_to_ms(seconds: f64) -> Option<i64> {
    let ms = (seconds * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e15).then_some(ms as i64)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Wire {
    Text(String),
    Number(f64),
}

/// Serde for an epoch-milliseconds field written as ISO 8601.
pub mod iso {
    use super::{Deserialize, Deserializer, Serializer, Wire, format_ms, parse_ms, seconds_to_ms};

    /// Writes `ms` as ISO 8601.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_ms(*ms))
    }

    /// Reads ISO 8601, RFC 3339 or epoch seconds.
    ///
    /// # Errors
    /// When the value is none of those.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let wire = Wire::deserialize(d)?;
        let ms = match &wire {
            Wire::Text(t) => parse_ms(t),
            Wire::Number(n) => seconds_to_ms(*n),
        };
        ms.ok_or_else(|| serde::de::Error::custom("expected an ISO 8601 time or epoch seconds"))
    }
}

/// Serde for an optional epoch-milliseconds field written as ISO 8601.
pub mod iso_opt {
    use super::{Deserialize, Deserializer, Serializer};

    /// Writes `ms` as ISO 8601, or null.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => super::iso::serialize(ms, s),
            None => s.serialize_none(),
        }
    }

    /// Reads ISO 8601, RFC 3339, epoch seconds or null.
    ///
    /// # Errors
    /// When the value is none of those.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::iso")] i64);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_the_aws_cli_prints_and_back() {
        let ms = 1_763_698_407_123;
        let text = format_ms(ms);
        assert_eq!(text, "2025-11-21T04:13:27.123000+00:00");
        assert_eq!(parse_ms(&text), Some(ms));
        assert_eq!(parse_ms("1763698407.123"), Some(ms));
        assert_eq!(parse_ms("2025-11-21T04:13:27.123Z"), Some(ms));
        assert_eq!(parse_ms("yesterday"), None);
    }
}
