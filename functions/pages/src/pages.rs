//! The pages, read from S3 and CloudWatch Logs and rendered by `kiln_core::pages`, as
//! `kiln serve` renders them from disk.
//!
//! Who may read what: a build's page, log and JSON need the signature of its link (`?sig=`,
//! as its commit status's `target_url` carries it), unless its project has `kiln.publicBuilds:
//! true`; the list and the badges show public projects only. A build that may not be read is
//! answered 404, as one that does not exist.
//!
//! Where the log comes from: while the build runs, CloudWatch Logs (the task's awslogs stream,
//! as fresh as it gets); once it has ended, the archive the relay wrote (CloudWatch Logs when
//! there is none). A log answer is at most [`MAX_LOG_ANSWER`] bytes (a Function URL answers at
//! most 6 MB); the live view asks for the rest from the offset it is given.

use kiln_aws::{CloudWatchLogsReader, S3BuildStore, S3LogArchive};
use kiln_core::build::{Build, BuildRef, lookup};
use kiln_core::pages::{BuildPage, api_summary, badge, build_list, build_page};
use kiln_core::ports::{BuildStore, Clock, LogArchive, PortError, PortErrorKind, SystemClock};
use kiln_core::project::Project;
use kiln_core::status::PageLinks;
use kiln_lambda::{CatalogCache, Prefetch};

use crate::routes::Route;

/// The most of a log a build page shows inline (its end), as `kiln serve`'s.
const PAGE_LOG_BYTES: u64 = 2 << 20;
/// The most of a log one answer of the log route holds.
pub const MAX_LOG_ANSWER: u64 = 5 << 20;
/// The most log events read from CloudWatch Logs for one answer.
const LOG_EVENTS: usize = 20_000;

/// An answer, before it is an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// More headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn html(body: String) -> Self {
        Self {
            status: 200,
            content_type: "text/html; charset=utf-8",
            headers: vec![("cache-control", "no-store".to_owned())],
            body,
        }
    }

    fn unavailable(error: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %kiln_core::error_chain(error), "page not served");
        Self::text(503, format!("{}\n", kiln_core::error_chain(error)))
    }

    /// The key that signs links could not be had: the webhook secret was not read (the
    /// function's log says why; the answer does not, to whoever asks).
    fn no_key() -> Self {
        Self::text(503, "the pages' signing key could not be read; the function's log says why\n")
    }

    fn no_such_build() -> Self {
        Self::text(404, "no such build\n")
    }
}

/// What a request's query says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `sig`: the link's signature.
    pub sig: Option<String>,
    /// `from`: where the log route starts.
    pub from: Option<u64>,
    /// `branch`: the badge's branch.
    pub branch: Option<String>,
}

/// What the pages are read from.
pub struct Pages {
    /// Records and summaries.
    pub builds: S3BuildStore,
    /// Logs of ended builds.
    pub archive: S3LogArchive,
    /// Logs of running builds.
    pub logs: CloudWatchLogsReader,
    /// Which projects are public.
    pub catalog: CatalogCache,
    /// How pages link (and the key that signs links, derived from the webhook secret), read in
    /// the background from the start: a badge or the health check never waits for it.
    pub links: Prefetch<PageLinks>,
    /// Now.
    pub clock: SystemClock,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").field("links", &self.links).finish_non_exhaustive()
    }
}

impl Pages {
    /// The answer to `route` with `query`.
    pub async fn answer(&self, route: Route, query: &Query) -> Answer {
        match route {
            Route::Health => Answer::text(200, "ok\n"),
            Route::NotFound => Answer::text(404, "not found\n"),
            Route::MethodNotAllowed => Answer::text(405, "method not allowed\n"),
            Route::Badge(project) => self.badge(&project, query.branch.as_deref()).await,
            Route::List | Route::Page(_) | Route::Log(_) | Route::Api(_) => {
                let Ok(links) = self.links.get().await else { return Answer::no_key() };
                match route {
                    Route::Page(ref at) | Route::Log(ref at) | Route::Api(ref at)
                        if !signed(links, at, query) =>
                    {
                        match self.public(&at.project).await {
                            Ok(true) => self.build_route(&route, query, links).await,
                            Ok(false) => Answer::no_such_build(),
                            Err(e) => Answer::unavailable(&e),
                        }
                    }
                    Route::List => self.list(links).await,
                    _ => self.build_route(&route, query, links).await,
                }
            }
        }
    }

    async fn public(&self, project: &str) -> Result<bool, kiln_lambda::CatalogLoadError> {
        Ok(self.catalog.projects().await?.get(project).is_some_and(Project::builds_are_public))
    }

    async fn build_route(&self, route: &Route, query: &Query, links: &PageLinks) -> Answer {
        let (Route::Page(at) | Route::Log(at) | Route::Api(at)) = route else {
            return Answer::text(404, "not found\n");
        };
        let build = match self.builds.read(at).await {
            Ok(b) => b,
            Err(e) if e.kind == PortErrorKind::NotFound => return Answer::no_such_build(),
            Err(e) => return Answer::unavailable(&e),
        };
        match route {
            Route::Page(_) => self.page(&build, links).await,
            Route::Log(_) => self.log(&build, query.from.unwrap_or(0)).await,
            _ => self.api(&build).await,
        }
    }

    async fn page(&self, build: &Build, links: &PageLinks) -> Answer {
        let at = build.build_ref();
        let summary = self.builds.get_summary(&at).await.ok().flatten();
        let log = match self.log_text(build).await {
            Ok(log) => log,
            Err(e) => return Answer::unavailable(&e),
        };
        let (log, bytes, cut) = slice(&log, 0, PAGE_LOG_BYTES);
        let no_local = |_: &str| None;
        Answer::html(build_page(&BuildPage {
            build,
            summary: summary.as_ref(),
            log: &log,
            log_bytes: bytes,
            log_truncated: cut,
            links,
            local_path: &no_local,
            now_ms: self.clock.now_ms(),
        }))
    }

    async fn log(&self, build: &Build, from: u64) -> Answer {
        let log = match self.log_text(build).await {
            Ok(log) => log,
            Err(e) => return Answer::unavailable(&e),
        };
        let (text, next) = slice_from(&log, from, MAX_LOG_ANSWER);
        let mut answer = Answer::text(200, text);
        answer.headers = vec![
            ("cache-control", "no-store".to_owned()),
            ("x-kiln-log-offset", next.to_string()),
            ("x-kiln-build-ended", if build.state.is_terminal() { "1" } else { "0" }.to_owned()),
        ];
        answer
    }

    async fn api(&self, build: &Build) -> Answer {
        let summary = self.builds.get_summary(&build.build_ref()).await.ok().flatten();
        match api_summary(build, summary).to_json() {
            Ok(json) => Answer {
                status: 200,
                content_type: "application/json",
                headers: Vec::new(),
                body: json,
            },
            Err(e) => Answer::text(500, format!("{e}\n")),
        }
    }

    async fn list(&self, links: &PageLinks) -> Answer {
        let projects = match self.catalog.projects().await {
            Ok(p) => p,
            Err(e) => return Answer::unavailable(&e),
        };
        match self.builds.list_recent(None, 100).await {
            Ok(builds) => {
                let public: Vec<Build> = builds
                    .into_iter()
                    .filter(|b| {
                        projects.get(&b.identity.project).is_some_and(Project::builds_are_public)
                    })
                    .collect();
                Answer::html(build_list(&public, links, self.clock.now_ms()))
            }
            Err(e) => Answer::unavailable(&e),
        }
    }

    async fn badge(&self, project: &str, branch: Option<&str>) -> Answer {
        match self.public(project).await {
            Ok(true) => {}
            Ok(false) => return Answer::text(404, "no such project\n"),
            Err(e) => return Answer::unavailable(&e),
        }
        let builds = self.builds.list_recent(Some(project), 200).await.unwrap_or_default();
        let head = branch.map(|b| format!("refs/heads/{b}"));
        let latest = builds.iter().find(|b| {
            head.as_deref().is_none_or(|h| {
                lookup(&b.builtin_variables, "CODEBUILD_WEBHOOK_HEAD_REF") == Some(h)
            })
        });
        Answer {
            status: 200,
            content_type: "image/svg+xml",
            headers: vec![("cache-control", "no-cache".to_owned())],
            body: badge(project, latest.map(|b| b.state)),
        }
    }

    /// The log of `build` as far as it has got (see the module docs).
    async fn log_text(&self, build: &Build) -> Result<Vec<u8>, PortError> {
        let at = build.build_ref();
        if build.state.is_terminal()
            && let Some(archived) = self.archive.read(&at).await?
        {
            return Ok(archived.text);
        }
        if let Some(task) = &build.task {
            let page = self.logs.build_log(&at.project, &task.0, LOG_EVENTS).await?;
            if !page.events.is_empty() {
                let mut text = Vec::new();
                for event in page.events {
                    text.extend_from_slice(event.message.as_bytes());
                    text.push(b'\n');
                }
                return Ok(text);
            }
        }
        Ok(self.archive.read(&at).await?.map(|a| a.text).unwrap_or_default())
    }
}

/// Whether `query` carries the signature of `at`'s link.
fn signed(links: &PageLinks, at: &BuildRef, query: &Query) -> bool {
    links.signing_key.is_some() && query.sig.as_deref().is_some_and(|sig| links.verify(at, sig))
}

/// What a build page shows inline of `log` from `from`: its whole lines up to the last one
/// ended (a line still being written is left for later; a log with no line end at all is
/// shown as it is), at most `limit` bytes of them from a line start; where what is shown ends
/// (the offset the live view reads on from); and whether the start was cut.
fn slice(log: &[u8], from: u64, limit: u64) -> (String, u64, bool) {
    let from = usize::try_from(from).unwrap_or(usize::MAX).min(log.len());
    let window = usize::try_from(limit).unwrap_or(usize::MAX);
    let end = log[from..].iter().rposition(|b| *b == b'\n').map_or(log.len(), |i| from + i + 1);
    let start = from.max(end.saturating_sub(window));
    let cut = start > from;
    let mut shown = &log[start..end];
    if cut && let Some(nl) = shown.iter().position(|b| *b == b'\n') {
        shown = &shown[nl + 1..];
    }
    (String::from_utf8_lossy(shown).into_owned(), end as u64, cut)
}

/// At most `limit` bytes of `log` from `from` — the rest of it when that fits (the log as far as
/// it has got), else up to the last line end that fits — and where the next read starts.
fn slice_from(log: &[u8], from: u64, limit: u64) -> (String, u64) {
    let start = usize::try_from(from).unwrap_or(usize::MAX).min(log.len());
    let window = usize::try_from(limit).unwrap_or(usize::MAX);
    let rest = &log[start..];
    let taken = &rest[..rest.len().min(window)];
    let end = if taken.len() == rest.len() {
        taken.len()
    } else {
        taken.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
    };
    (String::from_utf8_lossy(&taken[..end]).into_owned(), (start + end) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_cut_at_lines() {
        let log = b"one\ntwo\nthree\npart";
        assert_eq!(slice(log, 0, 1000), ("one\ntwo\nthree\n".to_owned(), 14, false));
        assert_eq!(slice(log, 0, 9), ("three\n".to_owned(), 14, true));
        assert_eq!(slice_from(log, 4, 1000), ("two\nthree\npart".to_owned(), 18));
        assert_eq!(slice_from(log, 0, 10), ("one\ntwo\n".to_owned(), 8));
        assert_eq!(slice_from(log, 99, 10), (String::new(), 18));
    }
}
