//! The project catalog of an installation (`KILN_CATALOG`, an S3 object in the `--config`
//! format), read at the first invocation that needs it and kept across invocations: each use
//! asks S3 for the object's ETag (`HeadObject`) and reads it again only when it changed. A
//! changed catalog that does not load keeps the last one that did (logged as an error); with
//! none loaded yet, the error is the caller's.

use std::sync::Arc;

use kiln_core::ports::{PortError, PortErrorKind};
use kiln_core::project::{CatalogError, ResolverError, load_catalog};
use kiln_core::service::Projects;
use tokio::sync::Mutex;

use crate::config::S3Location;

/// Why the catalog could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CatalogLoadError {
    /// S3 did not give it.
    #[error("read the project catalog")]
    Read(#[from] PortError),
    /// It is not UTF-8.
    #[error("read the project catalog s3://{bucket}/{key}: not utf-8 text")]
    NotText {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// It does not load.
    #[error("load the project catalog s3://{bucket}/{key}")]
    Invalid {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// Why.
        #[source]
        source: CatalogError,
    },
    /// Its filter groups do not compile.
    #[error("load the project catalog")]
    Filters(#[from] ResolverError),
}

impl CatalogLoadError {
    /// Whether reading again later may succeed (S3 failing, not the catalog being wrong).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Read(e) if e.is_retryable())
    }
}

struct Loaded {
    etag: Option<String>,
    projects: Arc<Projects>,
}

/// The catalog, cached by ETag; see the module docs.
pub struct CatalogCache {
    s3: kiln_aws::LazyClient<aws_sdk_s3::Client>,
    location: S3Location,
    github_host: String,
    loaded: Mutex<Option<Loaded>>,
}

impl std::fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogCache").field("location", &self.location).finish_non_exhaustive()
    }
}

impl CatalogCache {
    /// The catalog at `location`, read with the S3 client of `sdk`, for deliveries from the
    /// GitHub whose web host is `github_host` (`github.com`, or an Enterprise Server's).
    pub fn new(sdk: &aws_config::SdkConfig, location: S3Location, github_host: String) -> Self {
        let s3 = kiln_aws::LazyClient::new(sdk, kiln_aws::s3_client);
        Self { s3, location, github_host, loaded: Mutex::new(None) }
    }

    /// The catalog as it is now (see the module docs).
    ///
    /// # Errors
    /// [`CatalogLoadError`] when no catalog could be loaded yet.
    pub async fn projects(&self) -> Result<Arc<Projects>, CatalogLoadError> {
        let mut loaded = self.loaded.lock().await;
        let etag = match self.etag().await {
            Ok(etag) => etag,
            Err(e) => {
                return match loaded.as_ref() {
                    Some(l) => {
                        tracing::warn!(error = %kiln_core::error_chain(&e), "catalog not checked; using the one loaded");
                        Ok(l.projects.clone())
                    }
                    None => Err(e.into()),
                };
            }
        };
        if let Some(l) = loaded.as_ref().filter(|l| l.etag.is_some() && l.etag == etag) {
            return Ok(l.projects.clone());
        }
        match self.load().await {
            Ok((etag, projects)) => {
                let projects = Arc::new(projects);
                *loaded = Some(Loaded { etag, projects: projects.clone() });
                tracing::info!(catalog = %format!("s3://{}/{}", self.location.bucket, self.location.key), projects = projects.catalog().projects.len(), "project catalog loaded");
                Ok(projects)
            }
            Err(e) => match loaded.as_ref() {
                Some(l) => {
                    tracing::error!(error = %kiln_core::error_chain(&e), "the changed catalog does not load; keeping the last one");
                    Ok(l.projects.clone())
                }
                None => Err(e),
            },
        }
    }

    fn op(&self, verb: &str) -> String {
        format!("{verb} s3://{}/{}", self.location.bucket, self.location.key)
    }

    async fn etag(&self) -> Result<Option<String>, PortError> {
        let head = self
            .s3
            .head_object()
            .bucket(&self.location.bucket)
            .key(&self.location.key)
            .send()
            .await
            .map_err(|e| kiln_aws::error::port_error(self.op("head"), e))?;
        Ok(head.e_tag().map(str::to_owned))
    }

    async fn load(&self) -> Result<(Option<String>, Projects), CatalogLoadError> {
        let output = self
            .s3
            .get_object()
            .bucket(&self.location.bucket)
            .key(&self.location.key)
            .send()
            .await
            .map_err(|e| kiln_aws::error::port_error(self.op("read"), e))?;
        let etag = output.e_tag().map(str::to_owned);
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| {
                PortError::new(PortErrorKind::Unavailable, self.op("read")).with_source(e)
            })?
            .into_bytes();
        let (bucket, key) = (self.location.bucket.clone(), self.location.key.clone());
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| CatalogLoadError::NotText { bucket: bucket.clone(), key: key.clone() })?;
        let catalog = load_catalog(&text).map_err(|source| CatalogLoadError::Invalid {
            bucket,
            key,
            source,
        })?;
        for warning in &catalog.warnings {
            tracing::warn!(warning = %warning.render_with_path(&self.location.key, &text), "project catalog");
        }
        Ok((etag, Projects::with_host(catalog, &self.github_host)?))
    }
}
