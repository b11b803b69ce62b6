//! Durations as users write them on the command line: `90s`, `5m`, `1h`.
//!
//! A unit is required: a bare `5` is refused with a hint (`5m`), since CodeBuild's
//! `timeoutInMinutes` counts minutes but most tools count seconds. A build's timeout is at most
//! [`MAX_TIMEOUT`] (36 hours, CodeBuild's largest `timeoutInMinutes`).

use std::time::Duration;

/// The longest build timeout: 2160 minutes, CodeBuild's limit.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(2160 * 60);

/// A duration that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    /// Not a number followed by `s`, `m` or `h`.
    #[error("invalid duration `{0}`: expected a whole number followed by s, m or h (90s, 5m, 1h)")]
    Invalid(String),
    /// A number without a unit.
    #[error("invalid duration `{0}`: give a unit, as in {0}m (minutes) or {0}s (seconds)")]
    NoUnit(String),
    /// Zero.
    #[error("invalid duration `{0}`: must be more than zero")]
    Zero(String),
    /// Longer than [`MAX_TIMEOUT`].
    #[error("invalid duration `{0}`: at most 36h (2160m, CodeBuild's longest timeout)")]
    TooLong(String),
}

/// Reads `90s`, `5m` or `1h`: a whole number and a unit, more than zero, at most 36 hours.
///
/// # Errors
/// [`DurationError`] naming what is wrong with `text`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let Some((at, _)) = trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) else {
        return Err(if trimmed.is_empty() {
            DurationError::Invalid(text.to_owned())
        } else {
            DurationError::NoUnit(trimmed.to_owned())
        });
    };
    let (digits, unit) = trimmed.split_at(at);
    let seconds_per_unit: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(DurationError::Invalid(text.to_owned())),
    };
    if digits.is_empty() {
        return Err(DurationError::Invalid(text.to_owned()));
    }
    let value: u64 = match digits.parse() {
        Ok(v) => v,
        Err(_) => return Err(DurationError::TooLong(text.to_owned())),
    };
    if value == 0 {
        return Err(DurationError::Zero(text.to_owned()));
    }
    let seconds = value
        .checked_mul(seconds_per_unit)
        .filter(|s| *s <= MAX_TIMEOUT.as_secs())
        .ok_or_else(|| DurationError::TooLong(text.to_owned()))?;
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("90s", 90)]
    #[test_case("5m", 300)]
    #[test_case("1h", 3600)]
    #[test_case("36h", 129_600)]
    fn valid(text: &str, seconds: u64) {
        assert_eq!(parse_duration(text), Ok(Duration::from_secs(seconds)));
    }

    #[test_case("" ; "empty")]
    #[test_case("5x" ; "unit")]
    #[test_case("m" ; "no number")]
    #[test_case("1.5h" ; "fraction")]
    #[test_case("-1s" ; "negative")]
    #[test_case("0s" ; "zero")]
    #[test_case("37h" ; "too long")]
    #[test_case("18446744073709551615s" ; "u64 max")]
    #[test_case("99999999999999999999999h" ; "beyond u64")]
    fn invalid(text: &str) {
        assert!(parse_duration(text).is_err());
    }

    #[test]
    fn a_bare_number_suggests_a_unit() {
        let e = parse_duration("5").expect_err("no unit");
        assert_eq!(
            e.to_string(),
            "invalid duration `5`: give a unit, as in 5m (minutes) or 5s (seconds)"
        );
    }
}
