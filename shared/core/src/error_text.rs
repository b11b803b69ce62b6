//! One line of text for an error and its causes, as kiln shows errors to users (the log,
//! stderr, a commit status).

/// An error and its sources, joined with `: `. A cause whose text the line already ends with
/// (an error that prints its source itself) is not repeated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !cause_text.is_empty() && !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn every_cause_follows_its_error_once() {
        assert_eq!(error_chain(&Outer(std::io::Error::other("inner"))), "outer: inner");
        assert_eq!(error_chain(&Repeats(std::io::Error::other("inner"))), "outer: inner");
    }
}
