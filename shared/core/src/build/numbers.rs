//! Build numbers: per project, 1 for the first build, one more for each build after.
//!
//! Storage decides atomicity: an adapter claims number `n` by creating a record that must not
//! exist yet (a file created with `create_new`, an S3 put with `If-None-Match`), and on a
//! conflict asks again. This module only says which number to try.

/// The number to claim next, given the names of the numbers already claimed (other names are
/// ignored).
pub fn next_build_number<'a>(claimed: impl IntoIterator<Item = &'a str>) -> u64 {
    claimed.into_iter().filter_map(parse_build_number).max().map_or(1, |n| n + 1)
}

/// A claimed number's record name (decimal digits, no sign, no leading zero), or `None`.
pub fn parse_build_number(name: &str) -> Option<u64> {
    if name.is_empty() || name.starts_with('0') || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_from_one() {
        assert_eq!(next_build_number([]), 1);
        assert_eq!(next_build_number(["1"]), 2);
        assert_eq!(next_build_number(["2", "10", "9", "lock", "07", "-3"]), 11);
    }
}
