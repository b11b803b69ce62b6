//! When a failed call to GitHub is tried again: the policy (attempts, backoff, time budget)
//! and the reading of GitHub's answer (`Retry-After`, rate-limit headers, secondary limits).

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use http::{HeaderMap, StatusCode};

/// How a call to GitHub is retried.
///
/// A call is tried at most `max_attempts` times. Between attempts it waits what GitHub asks
/// (`Retry-After`, or until `x-ratelimit-reset` when `x-ratelimit-remaining` is 0), or else an
/// exponential backoff from `first_backoff` up to `max_backoff` with jitter. The whole call,
/// attempts and waits, stays within `budget`: when the next wait would pass it, the call
/// fails at once with the last error (`Throttled` or `Unavailable`) for the caller to retry
/// later. Only 5xx, 429, rate-limited 403s, transport errors and timeouts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The wait after the first failure (before jitter).
    pub first_backoff: Duration,
    /// The longest wait between two attempts that backoff computes.
    pub max_backoff: Duration,
    /// The longest one call may take, attempts and waits included.
    pub budget: Duration,
    /// How long to wait on a secondary rate limit that says nothing of when to come back
    /// (GitHub's documentation: at least a minute).
    pub secondary_rate_limit_wait: Duration,
}

impl RetryPolicy {
    /// For calls made while a webhook delivery waits for its answer (GitHub gives up after
    /// 10 s): 3 attempts within 3 s. Rate limits asking for longer fail at once as
    /// `Throttled`.
    pub const fn intake() -> Self {
        Self {
            max_attempts: 3,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(1),
            budget: Duration::from_secs(3),
            secondary_rate_limit_wait: Duration::from_secs(60),
        }
    }

    /// For a background retrier (status posts after a build, the sweeper): 6 attempts within
    /// 3 minutes, long enough to sit out a secondary rate limit.
    pub const fn background() -> Self {
        Self {
            max_attempts: 6,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            budget: Duration::from_secs(180),
            secondary_rate_limit_wait: Duration::from_secs(60),
        }
    }

    /// One attempt, no retry.
    pub const fn once() -> Self {
        Self { max_attempts: 1, ..Self::intake() }
    }

    /// The backoff wait after failed attempt number `attempt` (1-based), jittered to between
    /// half and all of the exponential value.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let full = self.first_backoff.saturating_mul(1 << exp).min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(random_fraction())
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::intake()
    }
}

/// A random number in [0, 1) for jitter (std's randomly keyed hasher: no rand crate needed).
fn random_fraction() -> f64 {
    let bits = std::collections::hash_map::RandomState::new().build_hasher().finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// What an error answer says about retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Do not retry (4xx other than rate limits).
    Never,
    /// Retry after the backoff.
    Backoff,
    /// Retry after this long, as GitHub asked.
    After(Duration),
}

/// Reads an error answer: whether it is a rate limit, and when to try again.
///
/// `now_s` is the current time in seconds since the Unix epoch (for `x-ratelimit-reset`).
pub(crate) fn read_answer(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    now_s: i64,
    policy: &RetryPolicy,
) -> (bool, Retry) {
    let retry_after = header_u64(headers, "retry-after").map(Duration::from_secs);
    let exhausted = header_u64(headers, "x-ratelimit-remaining") == Some(0);
    let reset_wait = || {
        header_u64(headers, "x-ratelimit-reset")
            .and_then(|reset| i64::try_from(reset).ok())
            .map(|reset| Duration::from_secs(u64::try_from(reset - now_s).unwrap_or(0) + 1))
    };
    let code = status.as_u16();
    let secondary = message.to_ascii_lowercase().contains("secondary rate limit");
    let rate_limited =
        code == 429 || (code == 403 && (retry_after.is_some() || exhausted || secondary));
    let retry = if rate_limited {
        match (retry_after, exhausted.then(reset_wait).flatten()) {
            (Some(wait), _) | (None, Some(wait)) => Retry::After(wait),
            (None, None) if secondary => Retry::After(policy.secondary_rate_limit_wait),
            (None, None) => Retry::Backoff,
        }
    } else if status.is_server_error() {
        retry_after.map_or(Retry::Backoff, Retry::After)
    } else {
        Retry::Never
    };
    (rate_limited, retry)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("a number or header value"));
        }
        h
    }

    fn read(status: u16, pairs: &[(&'static str, &str)], message: &str) -> (bool, Retry) {
        let policy = RetryPolicy::intake();
        read_answer(
            StatusCode::from_u16(status).expect("a status code"),
            &headers(pairs),
            message,
            1000,
            &policy,
        )
    }

    #[test]
    fn server_errors_back_off_or_wait_as_asked() {
        assert_eq!(read(502, &[], ""), (false, Retry::Backoff));
        assert_eq!(
            read(503, &[("retry-after", "2")], ""),
            (false, Retry::After(Duration::from_secs(2)))
        );
    }

    #[test]
    fn rate_limits_wait_as_asked() {
        assert_eq!(
            read(429, &[("retry-after", "1")], ""),
            (true, Retry::After(Duration::from_secs(1)))
        );
        assert_eq!(read(429, &[], ""), (true, Retry::Backoff));
        assert_eq!(
            read(403, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1010")], ""),
            (true, Retry::After(Duration::from_secs(11)))
        );
        assert_eq!(
            read(403, &[], "You have exceeded a secondary rate limit. Please wait."),
            (true, Retry::After(Duration::from_secs(60)))
        );
    }

    #[test]
    fn other_client_errors_are_never_retried() {
        assert_eq!(
            read(403, &[("x-ratelimit-remaining", "10")], "Resource not accessible"),
            (false, Retry::Never)
        );
        assert_eq!(read(404, &[], "Not Found"), (false, Retry::Never));
        assert_eq!(read(422, &[], "No commit found for SHA"), (false, Retry::Never));
        assert_eq!(read(401, &[], "Bad credentials"), (false, Retry::Never));
    }

    #[test]
    fn backoff_grows_jittered_and_capped() {
        let policy = RetryPolicy::intake();
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(
                first >= Duration::from_millis(100) && first <= Duration::from_millis(200),
                "{first:?}"
            );
            let third = policy.backoff(3);
            assert!(
                third >= Duration::from_millis(400) && third <= Duration::from_millis(800),
                "{third:?}"
            );
            assert!(policy.backoff(30) <= policy.max_backoff);
        }
        let waits: std::collections::HashSet<_> = (0..20).map(|_| policy.backoff(2)).collect();
        assert!(waits.len() > 1, "backoff is jittered");
    }
}
