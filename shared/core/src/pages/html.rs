//! HTML escaping and the page frame every page shares.

use std::fmt::Write;

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}\
header{padding:12px 24px;background:#24292f;color:#fff}header a{color:#fff;text-decoration:none;font-weight:600}\
main{padding:16px 24px;max-width:1200px}h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:22px 0 8px}\
table{border-collapse:collapse}td,th{padding:4px 12px 4px 0;text-align:left;vertical-align:top}\
th{color:#59636e;font-weight:500}.state{font-weight:600;padding:1px 8px;border-radius:10px;color:#fff}\
.SUCCEEDED{background:#1a7f37}.FAILED,.TIMED_OUT{background:#cf222e}.FAULT,.STOPPED{background:#9a6700}\
.IN_PROGRESS,.QUEUED{background:#0969da}pre.log{background:#0d1117;color:#e6edf3;padding:12px;overflow:auto;\
font:13px/1.4 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;max-height:none}\
.fail{color:#cf222e}code{font:13px ui-monospace,monospace}.muted{color:#59636e}";

/// A whole page: `title`, an optional `<head>` extra, and `body`.
pub fn page(title: &str, head: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style>{head}</head><body>\
<header><a href=\"/\">kiln</a></header><main>{body}</main></body></html>\n",
        escape(title)
    );
    out
}

/// A state as a coloured label.
pub fn state_label(name: &str) -> String {
    format!("<span class=\"state {0}\">{0}</span>", escape(name))
}

/// `ms` as `1m 05s`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(duration(65_000), "1m 05s");
        assert_eq!(duration(3_700_000), "1h 01m");
        assert_eq!(duration(999), "0s");
    }
}
