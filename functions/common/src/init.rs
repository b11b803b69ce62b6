//! A function's initialisation failing (a variable missing or wrong, a secret unreadable):
//! reported to the Runtime API's `/init/error`, as Lambda expects of a runtime, so the
//! function's init error names what is wrong instead of a bare "Runtime exited".

use lambda_runtime::Error;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{Client, build_request};

/// `errorType` of an initialisation that failed.
pub const INIT_ERROR_TYPE: &str = "kiln.InitError";

/// `init`'s value; or its error, logged, reported to `/init/error` and returned (the
/// function then exits, and Lambda starts a new one for the next event).
///
/// # Errors
/// `init`'s error.
pub async fn report_init_error<T, E: Into<Error>>(init: Result<T, E>) -> Result<T, Error> {
    let error: Error = match init {
        Ok(value) => return Ok(value),
        Err(e) => e.into(),
    };
    let message = error.to_string();
    tracing::error!(error = %message, "initialisation failed");
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return Err(error);
    }
    let body = serde_json::json!({"errorType": INIT_ERROR_TYPE, "errorMessage": message});
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", INIT_ERROR_TYPE)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()));
    let sent = match (Client::builder().build(), request) {
        (Ok(client), Ok(request)) => client.call(request).await.map(drop),
        (Err(e), _) => Err(e.into()),
        (_, Err(e)) => Err(e.into()),
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "the init error could not be reported");
    }
    Err(error)
}
