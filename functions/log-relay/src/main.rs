//! `kiln-log-relay`: the build log group's CloudWatch Logs subscription, relayed to progress
//! statuses and the log archive in S3.

mod config;
mod handler;

use kiln_aws::S3LogArchive;
use kiln_core::service::RelayPolicy;
use kiln_github::RetryPolicy;
use kiln_lambda::{CloudPorts, LazyGitHub, NoTasks};
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

/// The handler and its adapters; kiln's GitHub credential (posted with, and masked in every
/// line) is read at the first payload of a build's log: control messages never read it.
async fn setup(vars: &kiln_lambda::Vars) -> Result<handler::LogRelay, Error> {
    let config = config::Config::from_vars(vars)?;
    let sdk = kiln_lambda::sdk_config(vars)?;
    let github = LazyGitHub::later(&sdk, &config.github, RetryPolicy::intake());
    Ok(handler::LogRelay {
        ports: CloudPorts::new(&sdk, &config.state_bucket, None, Box::new(NoTasks), &github),
        github,
        archive: S3LogArchive::new(&sdk, &config.state_bucket),
        policy: RelayPolicy::default(),
        streams: Default::default(),
    })
}
