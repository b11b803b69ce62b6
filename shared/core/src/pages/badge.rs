//! An SVG status badge of a project's latest build, in the usual two-part shape.

use super::html::escape;
use crate::build::BuildState;

/// The badge of a project whose latest build is in `state` (`None`: no build yet).
pub fn badge(label: &str, state: Option<BuildState>) -> String {
    let (text, colour) = match state {
        None => ("unknown", "#9f9f9f"),
        Some(BuildState::Succeeded) => ("passing", "#2ea44f"),
        Some(BuildState::Failed | BuildState::TimedOut) => ("failing", "#cf222e"),
        Some(BuildState::Fault | BuildState::Stopped) => ("error", "#9a6700"),
        Some(BuildState::Queued | BuildState::InProgress) => ("running", "#0969da"),
    };
    let left = 6 + 7 * label.chars().count();
    let right = 6 + 7 * text.len();
    let width = left + right;
    let label = escape(label);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"20\" role=\"img\" aria-label=\"{label}: {text}\">\
<title>{label}: {text}</title><rect width=\"{left}\" height=\"20\" fill=\"#555\"/>\
<rect x=\"{left}\" width=\"{right}\" height=\"20\" fill=\"{colour}\"/>\
<g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">\
<text x=\"6\" y=\"14\">{label}</text><text x=\"{tx}\" y=\"14\">{text}</text></g></svg>\n",
        tx = left + 6
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_the_state_in_words() {
        assert!(badge("web", Some(BuildState::Succeeded)).contains(">passing<"));
        assert!(badge("web", Some(BuildState::TimedOut)).contains(">failing<"));
        assert!(badge("web", None).contains(">unknown<"));
        assert!(badge("<x>", None).contains("&lt;x&gt;"));
    }
}
