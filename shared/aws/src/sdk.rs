//! The AWS SDK's configuration, loaded the standard way (region, credentials and
//! `AWS_ENDPOINT_URL` from the environment and profile files), with the one HTTP client every
//! service shares: hyper with rustls on ring, so neither aws-lc nor openssl is built.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The HTTP client kiln's AWS clients use: HTTPS through rustls with ring's cryptography and
/// the system's trusted roots (plain HTTP too, for an emulator on loopback).
///
/// The trusted roots are read when the first request connects, not when a client is made:
/// the SDK's own client reads and parses the system's certificates as soon as a client is
/// configured (milliseconds, more where the certificate folder is large), which a Lambda
/// function would otherwise spend before it can take its first event, even an event that
/// needs no AWS call at all.
pub fn http_client() -> SharedHttpClient {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    SharedHttpClient::new(ConnectOnFirstRequest(https))
}

/// An HTTP client whose connector (and trusted roots) is made at the first request.
#[derive(Debug)]
struct ConnectOnFirstRequest(SharedHttpClient);

impl HttpClient for ConnectOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    // `validate_base_client_config` is left as the trait has it (nothing): the wrapped
    // client's makes its connector then, to load the trusted roots early.

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The SDK configuration from the environment, as every AWS tool reads it
/// (`aws_config::defaults`), with [`http_client`].
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client()).load().await
}

/// An S3 client for `sdk`. Path-style addressing is used when the configuration names its own
/// endpoint (`AWS_ENDPOINT_URL`: an emulator or an S3-compatible store, which seldom resolve
/// `bucket.host` names); AWS's own endpoints get virtual-hosted addressing.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// An SDK client made at its first use.
///
/// Making the first client of a service parses the service's endpoint partitions (their JSON
/// and the regions' patterns: most of a million instructions a service). A Lambda function
/// holds clients of four or five services and an event seldom uses them all, so each is made
/// when first called instead of when the function starts. Clones share the one client.
pub struct LazyClient<C> {
    inner: std::sync::Arc<LazyInner<C>>,
}

/// How a client is made.
type Make<C> = fn(&SdkConfig) -> C;

struct LazyInner<C> {
    client: std::sync::OnceLock<C>,
    make: Option<(SdkConfig, Make<C>)>,
}

impl<C> LazyClient<C> {
    /// The client `make` makes from `sdk`, when first used.
    pub fn new(sdk: &SdkConfig, make: Make<C>) -> Self {
        let inner =
            LazyInner { client: std::sync::OnceLock::new(), make: Some((sdk.clone(), make)) };
        Self { inner: std::sync::Arc::new(inner) }
    }

    /// `client` itself (made already, as tests make theirs).
    pub fn ready(client: C) -> Self {
        let inner = LazyInner { client: std::sync::OnceLock::from(client), make: None };
        Self { inner: std::sync::Arc::new(inner) }
    }
}

impl<C> Clone for LazyClient<C> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<C> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient").field("made", &self.inner.client.get().is_some()).finish()
    }
}

impl<C> std::ops::Deref for LazyClient<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.inner.client.get_or_init(|| match &self.inner.make {
            Some((sdk, make)) => make(sdk),
            // `ready` sets the client; `new` sets `make`.
            None => unreachable!("a LazyClient is either made or knows how to make itself"),
        })
    }
}
