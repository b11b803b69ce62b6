//! `kiln-log-relay`: the build log group's CloudWatch Logs subscription, relayed to progress
//! statuses and the log archive in S3.

mod config;
mod handler;

use kiln_aws::{EventBridgeBuildEvents, S3BuildStore, S3LogArchive};
use kiln_core::service::RelayPolicy;
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

/// The handler and its adapters.
async fn setup(vars: &kiln_lambda::Vars) -> Result<handler::LogRelay, Error> {
    let config = config::Config::from_vars(vars)?;
    let sdk = kiln_aws::load_sdk_config().await;
    let github = kiln_lambda::github::connect(&sdk, &config.github, RetryPolicy::intake()).await?;
    Ok(handler::LogRelay {
        masker: github.masker(),
        ports: kiln_lambda::CloudPorts {
            builds: S3BuildStore::new(&sdk, &config.state_bucket),
            events: EventBridgeBuildEvents::new(&sdk, None),
            runner: Box::new(kiln_lambda::NoTasks),
            statuses: Box::new(github.statuses),
            source: Box::new(github.source),
            clock: kiln_core::ports::SystemClock,
        },
        archive: S3LogArchive::new(&sdk, &config.state_bucket),
        policy: RelayPolicy::default(),
        streams: Default::default(),
    })
}
