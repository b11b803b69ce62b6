//! `kiln-sweeper`: what no event finishes, on an EventBridge schedule.

mod config;
mod handler;

use kiln_aws::EcsTaskRunner;
use kiln_core::service::SweepPolicy;
use kiln_github::RetryPolicy;
use kiln_lambda::{CloudPorts, LazyGitHub};
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

/// The handler and its adapters; kiln's GitHub credential is read when a sweep first posts a
/// status (one that finds nothing to post never reads it). GitHub is retried briefly: a sweep
/// bounds its work, and what GitHub refuses now the next run (five minutes later) posts.
async fn setup(vars: &kiln_lambda::Vars) -> Result<handler::Sweeper, Error> {
    let config = config::Config::from_vars(vars)?;
    let sdk = kiln_lambda::sdk_config(vars)?;
    let github = LazyGitHub::later(&sdk, &config.github, RetryPolicy::intake());
    let runner = Box::new(EcsTaskRunner::new(&sdk, config.aws.clone())?);
    let log_group = Some(config.aws.log_group.clone());
    let ports = CloudPorts::new(&sdk, &config.aws.state_bucket, log_group, runner, &github);
    Ok(handler::Sweeper { ports, policy: SweepPolicy::default() })
}
