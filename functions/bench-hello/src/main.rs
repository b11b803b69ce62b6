//! `kiln-bench-hello`: the smallest `lambda_runtime` function, built as kiln's functions are
//! (same workspace, profile and runtime), so that `scripts/bench-lambda` can compare their cold
//! starts and sizes with it. Not a default member of the workspace.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(serde_json::json!({ "hello": event.payload }))
    }))
    .await
}
