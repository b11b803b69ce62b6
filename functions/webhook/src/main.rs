//! `kiln-webhook`: GitHub's deliveries through a Function URL, taken in by `service::intake`.

mod config;
mod handler;

use kiln_aws::EcsTaskRunner;
use kiln_core::service::Settings;
use kiln_core::status::PageLinks;
use kiln_github::RetryPolicy;
use kiln_lambda::{CloudPorts, LazyGitHub};
use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let vars = kiln_lambda::Vars::from_env();
    kiln_lambda::init_tracing(&vars);
    let handler = kiln_lambda::report_init_error(setup(&vars).await).await?;
    let handler = &handler;
    lambda_http::run(service_fn(move |request| async move { handler.handle(request).await })).await
}

/// The handler and its adapters. The webhook secret is read in the background from the start,
/// so the function is ready without waiting for Secrets Manager; kiln's GitHub credential as
/// soon as a delivery that may build has been verified (while the catalog is read), so a ping
/// or a forged delivery never reads it. GitHub is retried briefly (`RetryPolicy::intake`): the reply must reach GitHub within its 10 s.
async fn setup(vars: &kiln_lambda::Vars) -> Result<handler::Webhook, Error> {
    let config = config::Config::from_vars(vars)?;
    let sdk = kiln_lambda::sdk_config(vars)?;
    let region = sdk.region().map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    let (account, pages_url) = (config.account.clone(), config.pages_url.clone());
    let github = LazyGitHub::later(&sdk, &config.github, RetryPolicy::intake());
    let keyed = kiln_lambda::github::prefetch_secret(
        &sdk,
        &config.webhook_secret_arn,
        "the webhook secret",
        move |secret| handler::Keyed {
            settings: Settings {
                region: region.clone(),
                account: account.clone(),
                pages: pages_url.clone().map(|base_url| PageLinks {
                    base_url,
                    signing_key: Some(kiln_lambda::pages_signing_key(&secret)),
                }),
            },
            secret,
        },
    );
    let host = kiln_core::project::github_host_of_api_url(&config.github.api_url)
        .unwrap_or_else(|| kiln_core::project::DEFAULT_GITHUB_HOST.to_owned());
    let runner = Box::new(EcsTaskRunner::new(&sdk, config.aws.clone())?);
    let log_group = Some(config.aws.log_group.clone());
    Ok(handler::Webhook {
        catalog: kiln_lambda::CatalogCache::new(&sdk, config.catalog.clone(), host),
        ports: CloudPorts::new(&sdk, &config.aws.state_bucket, log_group, runner, &github),
        github,
        keyed,
    })
}
