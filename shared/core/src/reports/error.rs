//! Why a report file could not be read, whatever its format.

/// Why a report file could not be read. The report is then INCOMPLETE with this reason.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not well-formed XML.
    #[error("malformed xml at byte {position}")]
    Xml {
        /// Byte offset of the problem.
        position: u64,
        /// The parser's error.
        #[source]
        source: quick_xml::Error,
    },
    /// The document ended with elements still open.
    #[error("unexpected end of file inside <{element}>")]
    Truncated {
        /// The innermost open element.
        element: String,
    },
    /// Well-formed, but not a report of the declared format.
    #[error("not a {format} report: the root element is <{root}>")]
    WrongRoot {
        /// The declared format, as the message names it.
        format: &'static str,
        /// The root element found (empty for a document without one).
        root: String,
    },
    /// Not valid JSON of the declared format (Cucumber, SimpleCov).
    #[error("invalid {format} json")]
    Json {
        /// The declared format, as the message names it.
        format: &'static str,
        /// The JSON reader's error.
        #[source]
        source: serde_json::Error,
    },
    /// The format is parsed by another function or not at all.
    #[error("format {0} not supported yet")]
    Unsupported(&'static str),
}
