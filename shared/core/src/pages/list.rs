//! The list of recent builds.

use std::fmt::Write;

use super::html::{duration, escape, page, state_label};
use crate::build::Build;
use crate::status::PageLinks;

/// The page listing `builds` (newest first), each linking to its page through `links`.
pub fn build_list(builds: &[Build], links: &PageLinks, now_ms: i64) -> String {
    let mut body = String::from("<h1>Recent builds</h1>");
    if builds.is_empty() {
        body.push_str("<p class=\"muted\">No builds yet. Builds appear here when a webhook delivery starts one.</p>");
        return page("kiln builds", "", &body);
    }
    body.push_str("<table><tr><th>Build</th><th>State</th><th>Source</th><th>Started</th><th>Duration</th></tr>");
    for b in builds {
        let at = b.build_ref();
        let source = b
            .webhook
            .as_ref()
            .and_then(|w| w.trigger.clone())
            .or_else(|| b.source_version.clone())
            .unwrap_or_default();
        let took = b.end_time.unwrap_or(now_ms) - b.start_time;
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{} #{}</a></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&links.build_page(&at)),
            escape(&at.project),
            at.number,
            state_label(b.state.name()),
            escape(&short(&source)),
            escape(&crate::build::timestamp::format_ms(b.start_time)),
            duration(took),
        );
    }
    body.push_str("</table>");
    page("kiln builds", "", &body)
}

/// A commit SHA cut to 12 digits; other text as it is.
pub(super) fn short(text: &str) -> String {
    if text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        text[..12].to_owned()
    } else {
        text.to_owned()
    }
}
