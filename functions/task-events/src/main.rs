//! `kiln-task-events`: EventBridge's ECS task state changes of the kiln cluster end builds.

mod config;
mod event;
mod handler;

use kiln_aws::{EcsTaskRunner, EventBridgeBuildEvents, S3BuildStore};
use kiln_github::RetryPolicy;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let vars = kiln_lambda::Vars::from_env();
    kiln_lambda::init_tracing(&vars);
    let handler = kiln_lambda::report_init_error(setup(&vars).await).await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        kiln_lambda::settle(handler.handle(event.payload).await)
    }))
    .await
}

/// The handler and its adapters. GitHub is retried briefly: a final status it refuses fails
/// the invocation (retried by EventBridge), and the sweeper posts what those retries do not.
async fn setup(vars: &kiln_lambda::Vars) -> Result<handler::TaskEvents, Error> {
    let config = config::Config::from_vars(vars)?;
    let sdk = kiln_aws::load_sdk_config().await;
    let github = kiln_lambda::github::connect(&sdk, &config.github, RetryPolicy::intake()).await?;
    let ports = kiln_lambda::CloudPorts {
        builds: S3BuildStore::new(&sdk, &config.aws.state_bucket),
        events: EventBridgeBuildEvents::new(&sdk, Some(config.aws.log_group.clone())),
        runner: Box::new(EcsTaskRunner::new(&sdk, config.aws.clone())?),
        statuses: Box::new(github.statuses),
        source: Box::new(github.source),
        clock: kiln_core::ports::SystemClock,
    };
    Ok(handler::TaskEvents { ports, cluster: config.aws.cluster.clone() })
}
