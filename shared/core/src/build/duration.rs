//! Durations as users write them on the command line: `90s`, `5m`, `1h`.

use std::time::Duration;

/// A duration that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    /// Not a number followed by `s`, `m` or `h`.
    #[error("invalid duration `{0}`: expected a whole number followed by s, m or h (90s, 5m, 1h)")]
    Invalid(String),
    /// Zero.
    #[error("invalid duration `{0}`: must be more than zero")]
    Zero(String),
}

/// Reads `90s`, `5m` or `1h` (a whole number and a unit; a bare number means minutes, as
/// CodeBuild's `timeoutInMinutes` does).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => trimmed.split_at(at),
        None => (trimmed, "m"),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(DurationError::Invalid(text.to_owned())),
    };
    let value: u64 = digits.parse().map_err(|_| DurationError::Invalid(text.to_owned()))?;
    if value == 0 {
        return Err(DurationError::Zero(text.to_owned()));
    }
    value
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| DurationError::Invalid(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("90s", 90)]
    #[test_case("5m", 300)]
    #[test_case("1h", 3600)]
    #[test_case("7", 420)]
    fn valid(text: &str, seconds: u64) {
        assert_eq!(parse_duration(text), Ok(Duration::from_secs(seconds)));
    }

    #[test_case("" ; "empty")]
    #[test_case("5x" ; "unit")]
    #[test_case("m" ; "no number")]
    #[test_case("1.5h" ; "fraction")]
    #[test_case("-1s" ; "negative")]
    #[test_case("0s" ; "zero")]
    fn invalid(text: &str) {
        assert!(parse_duration(text).is_err());
    }
}
