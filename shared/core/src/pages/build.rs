//! One build's page: what started it, its phases, why it failed, its test reports (failed
//! cases first), its artifacts, its exported variables and its log.

use std::fmt::Write;

use super::html::{duration, escape, page, state_label};
use super::list::short;
use crate::build::{Build, BuildSummary, lookup, timestamp::format_ms};
use crate::reports::CaseStatus;
use crate::status::PageLinks;

/// How many failed test cases a report shows by name.
const FAILED_CASES_SHOWN: usize = 50;

/// What a build's page shows.
pub struct BuildPage<'a> {
    /// The record.
    pub build: &'a Build,
    /// The agent's summary, once the build has ended (or `None`).
    pub summary: Option<&'a BuildSummary>,
    /// The log so far (already masked), possibly only its end.
    pub log: &'a str,
    /// The log's size in bytes, for the page's live view to ask for what comes after.
    pub log_bytes: u64,
    /// Whether `log` is only the end of the log.
    pub log_truncated: bool,
    /// How pages link to each other.
    pub links: &'a PageLinks,
    /// Where an artifact's location (`s3://bucket/key`) is on this machine, when it is.
    pub local_path: &'a dyn Fn(&str) -> Option<String>,
    /// Now, for the duration of a running build.
    pub now_ms: i64,
}

impl std::fmt::Debug for BuildPage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildPage").field("build", &self.build.build_ref()).finish_non_exhaustive()
    }
}

const LIVE_SCRIPT: &str = "(function(){var pre=document.getElementById('log');if(!pre)return;\
var off=pre.getAttribute('data-bytes'),src=pre.getAttribute('data-src');\
function tick(){fetch(src+(src.indexOf('?')<0?'?':'&')+'from='+off,{cache:'no-store'}).then(function(r){\
var next=r.headers.get('X-Kiln-Log-Offset'),ended=r.headers.get('X-Kiln-Build-Ended');\
return r.text().then(function(t){if(t){var bottom=window.innerHeight+window.scrollY>=document.body.scrollHeight-8;\
pre.appendChild(document.createTextNode(t));if(bottom)window.scrollTo(0,document.body.scrollHeight);}\
if(next)off=next;if(ended==='1'){location.reload();}else{setTimeout(tick,1000);}});})\
.catch(function(){setTimeout(tick,3000);});}setTimeout(tick,1000);})();";

/// The page of one build.
pub fn build_page(p: &BuildPage<'_>) -> String {
    let b = p.build;
    let at = b.build_ref();
    let mut body = String::with_capacity(p.log.len() + 8192);
    let _ = write!(
        body,
        "<h1>{} #{} {}</h1>",
        escape(&at.project),
        at.number,
        state_label(b.state.name())
    );
    facts(&mut body, p);
    if let Some(reason) = &b.reason {
        let _ = write!(body, "<p class=\"fail\"><strong>Why:</strong> {}</p>", escape(reason));
    }
    if let Some(s) = p.summary {
        phases(&mut body, s);
        reports(&mut body, s);
        artifacts(&mut body, s, p.local_path);
        if !s.exported_environment_variables.is_empty() {
            body.push_str("<h2>Exported variables</h2><table>");
            for v in &s.exported_environment_variables {
                let _ = write!(
                    body,
                    "<tr><th><code>{}</code></th><td><code>{}</code></td></tr>",
                    escape(&v.name),
                    escape(&v.value)
                );
            }
            body.push_str("</table>");
        }
    }
    let log_url = p.links.build_log(&at);
    let _ =
        write!(body, "<h2>Log <a class=\"muted\" href=\"{}\">(text)</a></h2>", escape(&log_url));
    if p.log_truncated {
        body.push_str("<p class=\"muted\">Only the end of the log is shown here; the text link has all of it.</p>");
    }
    let _ = write!(
        body,
        "<pre class=\"log\" id=\"log\" data-bytes=\"{}\" data-src=\"{}\">{}</pre>",
        p.log_bytes,
        escape(&log_url),
        escape(p.log)
    );
    let head = if b.state.is_terminal() {
        String::new()
    } else {
        body.push_str(&format!("<script>{LIVE_SCRIPT}</script>"));
        "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>".to_owned()
    };
    page(&format!("{} #{} {}", at.project, at.number, b.state.name()), &head, &body)
}

fn facts(body: &mut String, p: &BuildPage<'_>) {
    let b = p.build;
    body.push_str("<table>");
    let mut row = |name: &str, value: String| {
        let _ = write!(body, "<tr><th>{name}</th><td>{value}</td></tr>");
    };
    if let Some(w) = &b.webhook {
        row("Repository", escape(w.repository.as_str()));
        if let Some(trigger) = &w.trigger {
            row("Trigger", format!("<code>{}</code>", escape(trigger)));
        }
        row("Event", escape(w.event.as_str()));
        if let Some(d) = &w.delivery {
            row("Delivery", format!("<code>{}</code>", escape(d.as_str())));
        }
        if w.from_fork {
            row(
                "Fork",
                "a pull request from a fork (built without secrets unless the project allows them)"
                    .to_owned(),
            );
        }
    }
    if let Some(head) = lookup(&b.builtin_variables, "CODEBUILD_WEBHOOK_HEAD_REF") {
        row("Branch", format!("<code>{}</code>", escape(head)));
    }
    let commit = p
        .summary
        .and_then(|s| s.resolved_source_version.clone())
        .or_else(|| b.resolved_source_version.clone());
    if let Some(c) = commit {
        row("Commit", format!("<code title=\"{0}\">{1}</code>", escape(&c), escape(&short(&c))));
    }
    if let Some(v) = &b.source_version {
        row("Source version", format!("<code>{}</code>", escape(v)));
    }
    row("Initiator", escape(&b.initiator));
    row("Image", format!("<code>{}</code>", escape(&b.environment.image)));
    row("Started", escape(&format_ms(b.start_time)));
    row("Duration", duration(b.end_time.unwrap_or(p.now_ms) - b.start_time));
    body.push_str("</table>");
}

fn phases(body: &mut String, s: &BuildSummary) {
    body.push_str(
        "<h2>Phases</h2><table><tr><th>Phase</th><th>State</th><th>Duration</th><th></th></tr>",
    );
    for ph in s.phases.iter().filter(|ph| ph.status.is_some()) {
        let status = ph.status.map_or("", |st| st.name());
        let context =
            ph.contexts.iter().map(|c| escape(&c.message)).collect::<Vec<_>>().join("<br>");
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"fail\">{}</td></tr>",
            ph.phase_type,
            state_label(status),
            ph.duration_ms().map_or_else(String::new, duration),
            context
        );
    }
    body.push_str("</table>");
}

fn reports(body: &mut String, s: &BuildSummary) {
    if s.reports.is_empty() {
        return;
    }
    body.push_str("<h2>Reports</h2>");
    for r in &s.reports {
        let t = &r.test_summary;
        let _ = write!(
            body,
            "<h3>{} {}</h3><p>{} cases: {} passed, {} failed, {} errors, {} skipped</p>",
            escape(&r.name),
            state_label(&format!("{:?}", r.status).to_ascii_uppercase()),
            t.total,
            t.count(CaseStatus::Succeeded),
            t.count(CaseStatus::Failed),
            t.count(CaseStatus::Error),
            t.count(CaseStatus::Skipped)
        );
        if let Some(m) = &r.status_message {
            let _ = write!(body, "<p class=\"fail\">{}</p>", escape(m));
        }
        let mut failed: Vec<_> = r.test_cases.iter().filter(|c| c.status.is_failure()).collect();
        failed.sort_by(|a, b| (&a.prefix, &a.name).cmp(&(&b.prefix, &b.name)));
        if !failed.is_empty() {
            body.push_str("<table><tr><th>Failed case</th><th>Message</th></tr>");
            for c in failed.iter().take(FAILED_CASES_SHOWN) {
                let name = if c.prefix.is_empty() {
                    c.name.clone()
                } else {
                    format!("{}.{}", c.prefix, c.name)
                };
                let message = c.message.as_deref().unwrap_or("").lines().next().unwrap_or("");
                let _ = write!(
                    body,
                    "<tr><td class=\"fail\"><code>{}</code></td><td>{}</td></tr>",
                    escape(&name),
                    escape(message)
                );
            }
            body.push_str("</table>");
            if failed.len() > FAILED_CASES_SHOWN {
                let _ = write!(
                    body,
                    "<p class=\"muted\">and {} more failed cases</p>",
                    failed.len() - FAILED_CASES_SHOWN
                );
            }
        }
    }
}

fn artifacts(body: &mut String, s: &BuildSummary, local_path: &dyn Fn(&str) -> Option<String>) {
    let all: Vec<_> = s.artifacts.iter().chain(&s.secondary_artifacts).collect();
    if all.is_empty() {
        return;
    }
    body.push_str("<h2>Artifacts</h2><table><tr><th>Artifact</th><th>Location</th><th>On this machine</th></tr>");
    for a in all {
        let name = a.artifact_identifier.as_deref().unwrap_or("primary");
        let local = local_path(&a.location)
            .map(|p| format!("<code>{}</code>", escape(&p)))
            .unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(name),
            escape(&a.location),
            local
        );
    }
    body.push_str("</table>");
}
