//! `kiln-webhook`: GitHub's deliveries through a Function URL, taken in by `service::intake`.

mod config;
mod handler;

use kiln_aws::{EcsTaskRunner, EventBridgeBuildEvents, S3BuildStore};
use kiln_core::service::Settings;
use kiln_core::status::PageLinks;
use kiln_github::RetryPolicy;
use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let vars = kiln_lambda::Vars::from_env();
    kiln_lambda::init_tracing(&vars);
    let handler = kiln_lambda::report_init_error(setup(&vars).await).await?;
    let handler = &handler;
    lambda_http::run(service_fn(move |request| async move { handler.handle(request).await })).await
}

/// The handler and its adapters. GitHub is retried briefly (`RetryPolicy::intake`): the reply
/// must reach GitHub within its 10 s.
async fn setup(vars: &kiln_lambda::Vars) -> Result<handler::Webhook, Error> {
    let config = config::Config::from_vars(vars)?;
    let sdk = kiln_aws::load_sdk_config().await;
    let secret = kiln_lambda::github::read_secret(&sdk, &config.webhook_secret_arn).await?;
    let github = kiln_lambda::github::connect(&sdk, &config.github, RetryPolicy::intake()).await?;
    let host = kiln_core::project::github_host_of_api_url(&config.github.api_url)
        .unwrap_or_else(|| kiln_core::project::DEFAULT_GITHUB_HOST.to_owned());
    let pages = config.pages_url.clone().map(|base_url| PageLinks {
        base_url,
        signing_key: Some(kiln_lambda::pages_signing_key(&secret)),
    });
    let region = sdk.region().map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    Ok(handler::Webhook {
        settings: Settings { region, account: config.account.clone(), pages },
        catalog: kiln_lambda::CatalogCache::new(&sdk, config.catalog.clone(), host),
        ports: kiln_lambda::CloudPorts {
            builds: S3BuildStore::new(&sdk, &config.aws.state_bucket),
            events: EventBridgeBuildEvents::new(&sdk, Some(config.aws.log_group.clone())),
            runner: Box::new(EcsTaskRunner::new(&sdk, config.aws.clone())?),
            statuses: Box::new(github.statuses),
            source: Box::new(github.source),
            clock: kiln_core::ports::SystemClock,
        },
        secret,
    })
}
