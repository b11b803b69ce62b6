//! The server's routes (DESIGN §4): the webhook, the build pages, logs, the build API, badges,
//! the build list and a health check.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kiln_core::build::{Build, BuildRef, BuildSummary, Status, lookup};
use kiln_core::pages::{BuildPage, badge, build_list, build_page};
use kiln_core::ports::{BuildStore, PortErrorKind};
use kiln_core::service;
use kiln_core::webhook::{DeliveryHeaders, MAX_BODY_BYTES};

use super::app::App;
use super::worker;

/// The most of a log a build page shows inline (its end); the text route serves all of it.
const PAGE_LOG_BYTES: u64 = 2 << 20;

/// The router of every route.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/", get(list))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/builds/{project}/{number}", get(page))
        .route("/builds/{project}/{number}/log", get(log))
        .route("/api/builds/{project}/{number}", get(api))
        .route("/badges/{file}", get(badge_svg))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .with_state(app)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body.into()).into_response()
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)));
    let delivery = DeliveryHeaders::from_pairs(pairs);
    let accepted =
        service::accept(app.ports(), &app.settings, &app.projects, &app.secret, &delivery, &body)
            .await;
    worker::start(&app, accepted.to_start);
    let status =
        StatusCode::from_u16(accepted.reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], accepted.reply.to_json()).into_response()
}

fn build_ref(project: String, number: &str) -> Option<BuildRef> {
    kiln_core::build::parse_build_number(number).map(|n| BuildRef::new(project, n))
}

async fn record(app: &App, project: String, number: &str) -> Result<Build, Response> {
    let Some(at) = build_ref(project, number) else {
        return Err(text(StatusCode::NOT_FOUND, "no such build\n"));
    };
    match app.builds.read(&at).await {
        Ok(b) => Ok(b),
        Err(e) if e.kind == PortErrorKind::NotFound => {
            Err(text(StatusCode::NOT_FOUND, "no such build\n"))
        }
        Err(e) => {
            Err(text(StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", kiln_core::error_chain(&e))))
        }
    }
}

async fn list(State(app): State<Arc<App>>) -> Response {
    match app.builds.list_recent(None, 100).await {
        Ok(builds) => html(build_list(&builds, &app.links(), app.clock_now())),
        Err(e) => {
            text(StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", kiln_core::error_chain(&e)))
        }
    }
}

fn html(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response()
}

/// The end of the log file (at most `limit` bytes, from a line start), its size, and whether it
/// was cut.
fn read_log(path: &std::path::Path, from: u64, limit: u64) -> (String, u64, bool) {
    let Ok(mut file) = std::fs::File::open(path) else { return (String::new(), 0, false) };
    let size = file.metadata().map_or(0, |m| m.len());
    let start = from.min(size).max(size.saturating_sub(limit));
    let cut = start > from;
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_ok() {
        let _ = file.take(size - start).read_to_end(&mut bytes);
    }
    if cut && let Some(nl) = bytes.iter().position(|b| *b == b'\n') {
        bytes.drain(..=nl);
    }
    let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let complete = bytes.len();
    let shown = if end == 0 { complete } else { end };
    let text = String::from_utf8_lossy(&bytes[..shown]).into_owned();
    (text, size - (complete - shown) as u64, cut)
}

async fn page(
    State(app): State<Arc<App>>,
    Path((project, number)): Path<(String, String)>,
) -> Response {
    let build = match record(&app, project, &number).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let at = build.build_ref();
    let summary = app.builds.get_summary(&at).await.ok().flatten();
    let (log, bytes, cut) = read_log(&app.log_path(&at), 0, PAGE_LOG_BYTES);
    let links = app.links();
    let local = |location: &str| app.local_object(location);
    html(build_page(&BuildPage {
        build: &build,
        summary: summary.as_ref(),
        log: &log,
        log_bytes: bytes,
        log_truncated: cut,
        links: &links,
        local_path: &local,
        now_ms: app.clock_now(),
    }))
}

#[derive(serde::Deserialize)]
struct LogQuery {
    from: Option<u64>,
}

async fn log(
    State(app): State<Arc<App>>,
    Path((project, number)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
) -> Response {
    let build = match record(&app, project, &number).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (text_body, next, _) =
        read_log(&app.log_path(&build.build_ref()), q.from.unwrap_or(0), u64::MAX);
    let mut response = text(StatusCode::OK, text_body);
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&next.to_string()) {
        h.insert("x-kiln-log-offset", v);
    }
    h.insert(
        "x-kiln-build-ended",
        HeaderValue::from_static(if build.state.is_terminal() { "1" } else { "0" }),
    );
    response
}

async fn api(
    State(app): State<Arc<App>>,
    Path((project, number)): Path<(String, String)>,
) -> Response {
    let build = match record(&app, project, &number).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let summary = match app.builds.get_summary(&build.build_ref()).await {
        Ok(Some(s)) if build.state.is_terminal() => s,
        _ => in_progress(&build),
    };
    match summary.to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// The summary of a build the agent has not reported on yet (or one that ended without).
fn in_progress(build: &Build) -> BuildSummary {
    let status = if build.state.is_terminal() { build.state.status() } else { Status::InProgress };
    let mut s = BuildSummary::new(
        &build.identity,
        status,
        build.start_time,
        build.end_time.unwrap_or(build.start_time),
    );
    s.build_complete = build.state.is_terminal();
    s.source_version.clone_from(&build.source_version);
    s.resolved_source_version.clone_from(&build.resolved_source_version);
    s.initiator.clone_from(&build.initiator);
    s.timeout_in_minutes = build.timeout_seconds.div_ceil(60);
    s.environment.image.clone_from(&build.environment.image);
    s
}

#[derive(serde::Deserialize)]
struct BadgeQuery {
    branch: Option<String>,
}

async fn badge_svg(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    Query(q): Query<BadgeQuery>,
) -> Response {
    let Some(project) = file.strip_suffix(".svg") else {
        return text(StatusCode::NOT_FOUND, "badges are at /badges/PROJECT.svg\n");
    };
    if app.projects.get(project).is_none() {
        return text(StatusCode::NOT_FOUND, "no such project\n");
    }
    let builds = app.builds.list_recent(Some(project), 200).await.unwrap_or_default();
    let head = q.branch.as_ref().map(|b| format!("refs/heads/{b}"));
    let latest = builds.iter().find(|b| {
        head.as_deref()
            .is_none_or(|h| lookup(&b.builtin_variables, "CODEBUILD_WEBHOOK_HEAD_REF") == Some(h))
    });
    let svg = badge(project, latest.map(|b| b.state));
    Response::builder()
        .header(header::CONTENT_TYPE, "image/svg+xml")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(svg))
        .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "badge\n"))
}
