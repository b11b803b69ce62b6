//! The fake's one HTTP handler: records the request, checks it against GitHub's OpenAPI
//! description, applies a failure the test asked for, and otherwise answers from the state.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use crate::endpoints::{self, Answer, Req};
use crate::model::{Failure, RecordedRequest, Route, State, Violation};
use crate::openapi;

/// What the handler shares with the [`crate::FakeGitHub`] handle.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub state: Arc<Mutex<State>>,
    /// The path every API route is under (`""`, or `/api/v3` like GitHub Enterprise Server).
    pub prefix: String,
    /// `http://127.0.0.1:PORT` + prefix.
    pub base_url: String,
}

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The largest request body the fake reads.
const MAX_BODY: usize = 64 << 20;

pub(crate) async fn handle(AxumState(shared): AxumState<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default().to_vec();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let api_path = path.strip_prefix(shared.prefix.as_str()).filter(|p| p.starts_with('/'));
    let segments: Vec<String> = api_path
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let route = api_path.and_then(|_| endpoints::route_of(&method, &segments));

    let mut problems = Vec::new();
    if let (Some(api_path), Some(spec)) = (api_path, openapi::spec()) {
        match spec.operation(&method, api_path) {
            None => {
                problems.push(format!("{method} {api_path} is no operation of GitHub's REST API"))
            }
            Some(op) => {
                problems.extend(op.check_query(query.as_deref()));
                let content_type =
                    headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.as_str());
                problems.extend(op.check_body(content_type, &body));
            }
        }
    }

    let (index, failure) = {
        let mut state = lock(&shared.state);
        let failure = match route {
            Some(route) if problems.is_empty() => state.take_failure(route),
            _ => None,
        };
        let record = RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            headers: headers.clone(),
            body: body.clone(),
            route,
            status: 0,
        };
        state.requests.push(record);
        (state.requests.len() - 1, failure)
    };
    if let Some(Failure::Delay(delay)) = &failure {
        tokio::time::sleep(*delay).await;
    }

    let mut state = lock(&shared.state);
    let answer = if !problems.is_empty() {
        for message in &problems {
            state
                .violations
                .push(Violation { request: format!("{method} {path}"), message: message.clone() });
        }
        Answer::error(422, &format!("Invalid request.\n\n{}", problems.join("\n")))
    } else {
        match (route, failure) {
            (None, _) => Answer::error(404, "Not Found"),
            (Some(_), Some(failure)) if !matches!(failure, Failure::Delay(_)) => {
                failed(&state, &failure)
            }
            (Some(route), _) => {
                let req = Req {
                    route,
                    segments,
                    query: query.as_deref(),
                    headers: &headers,
                    body: &body,
                    base_url: &shared.base_url,
                };
                endpoints::answer(&mut state, &req)
            }
        }
    };
    if answer.status == 422 && problems.is_empty() && route == Some(Route::Statuses) {
        let message = String::from_utf8_lossy(&answer.body).into_owned();
        if message.contains("too long") {
            state.violations.push(Violation { request: format!("{method} {path}"), message });
        }
    }
    state.requests[index].status = answer.status;
    drop(state);
    respond(answer)
}

/// The answer of a failure the test asked for.
fn failed(state: &State, failure: &Failure) -> Answer {
    match failure {
        Failure::Status(status) => Answer::error(*status, "Server Error"),
        Failure::RetryAfter { status, seconds } => {
            let mut answer =
                Answer::error(*status, "You have exceeded a rate limit. Please retry later.");
            answer.headers.push(("retry-after".into(), seconds.to_string()));
            answer
        }
        Failure::SecondaryRateLimit { retry_after } => {
            let mut answer = Answer::error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            if let Some(seconds) = retry_after {
                answer.headers.push(("retry-after".into(), seconds.to_string()));
            }
            answer
        }
        Failure::RateLimitExhausted { reset_in } => {
            let mut answer = Answer::error(403, "API rate limit exceeded for installation.");
            let reset = state.now_s() + i64::try_from(*reset_in).unwrap_or(0);
            answer.headers.push(("x-ratelimit-limit".into(), "5000".into()));
            answer.headers.push(("x-ratelimit-remaining".into(), "0".into()));
            answer.headers.push(("x-ratelimit-reset".into(), reset.to_string()));
            answer
        }
        Failure::Delay(_) => Answer::error(500, "Server Error"),
    }
}

fn respond(answer: Answer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
