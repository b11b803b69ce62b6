//! A Function URL request (payload format 2.0) in, a page out: the path and query read into a
//! [`Route`] and a [`Query`], the answer made by [`Pages`], and back as an HTTP response (an
//! empty body for `HEAD`).

use kiln_core::webhook::MAX_BODY_BYTES;
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::pages::{Pages, Query};
use crate::routes::route;

/// Answers one request.
///
/// # Errors
/// None: every outcome is an HTTP answer.
pub async fn handle(pages: &Pages, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    let params = request.query_string_parameters();
    let query = Query {
        sig: params.first("sig").map(str::to_owned),
        from: params.first("from").and_then(|f| f.parse().ok()),
        branch: params.first("branch").map(str::to_owned),
    };
    let path = request.raw_http_path().to_owned();
    let path = if path.is_empty() { request.uri().path().to_owned() } else { path };
    let answer = if request.body().len() > MAX_BODY_BYTES {
        crate::pages::Answer {
            status: 413,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: "too large\n".to_owned(),
        }
    } else {
        pages.answer(route(request.method().as_str(), &path), &query).await
    };
    let mut response = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, answer.content_type);
    for (name, value) in &answer.headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response = response.header(*name, value);
        }
    }
    let body = if request.method() == Method::HEAD { Body::Empty } else { Body::Text(answer.body) };
    Ok(response.body(body)?)
}
