//! `kiln-pages`: the build pages, logs, JSON and badges through a Function URL.

mod config;
mod handler;
mod pages;
mod routes;

use kiln_aws::{CloudWatchLogsReader, S3BuildStore, S3LogArchive};
use kiln_core::status::PageLinks;
use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let vars = kiln_lambda::Vars::from_env();
    kiln_lambda::init_tracing(&vars);
    let pages = kiln_lambda::report_init_error(setup(&vars).await).await?;
    let pages = &pages;
    lambda_http::run(service_fn(
        move |request| async move { handler::handle(pages, request).await },
    ))
    .await
}

/// The pages and their adapters; links are signed with the key derived from the webhook
/// secret, as the webhook function signs the statuses' `target_url`, read in the background
/// from the start.
async fn setup(vars: &kiln_lambda::Vars) -> Result<pages::Pages, Error> {
    let config = config::Config::from_vars(vars)?;
    let sdk = kiln_lambda::sdk_config(vars)?;
    let base_url = config.pages_url.clone();
    let links = kiln_lambda::github::prefetch_secret(
        &sdk,
        &config.webhook_secret_arn,
        "the webhook secret",
        move |secret| PageLinks {
            base_url: base_url.clone(),
            signing_key: Some(kiln_lambda::pages_signing_key(&secret)),
        },
    );
    let host = kiln_core::project::DEFAULT_GITHUB_HOST.to_owned();
    Ok(pages::Pages {
        builds: S3BuildStore::new(&sdk, &config.state_bucket),
        archive: S3LogArchive::new(&sdk, &config.state_bucket),
        logs: CloudWatchLogsReader::new(&sdk, &config.log_group),
        catalog: kiln_lambda::CatalogCache::new(&sdk, config.catalog.clone(), host),
        links,
        clock: kiln_core::ports::SystemClock,
    })
}
