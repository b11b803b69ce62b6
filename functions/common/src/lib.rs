//! What kiln's five Lambda functions share, so that each `main.rs` only wires and each handler
//! only translates: reading their configuration (the DESIGN §4 variables), tracing (JSON logs
//! when Lambda's log format is JSON), building the AWS and GitHub adapters, reading secrets in
//! the background from the start ([`Prefetch`]), the project catalog cached by ETag, and
//! turning a handler's failure into a Lambda [`Diagnostic`] that says whether retrying may
//! succeed.
//!
//! ```text
//! let vars = kiln_lambda::Vars::from_env();
//! kiln_lambda::init_tracing(&vars);
//! let sdk = kiln_lambda::sdk_config(&vars)?;
//! let github = kiln_lambda::LazyGitHub::later(&sdk, &config.github, RetryPolicy::intake());
//! let ports = kiln_lambda::CloudPorts::new(&sdk, &bucket, log_group, runner, &github);
//! lambda_runtime::run(service_fn(|event| async { kiln_lambda::settle(handler.handle(event).await) })).await
//! ```
//!
//! [`Diagnostic`]: lambda_runtime::Diagnostic

pub mod catalog;
pub mod config;
mod error;
pub mod github;
mod init;
mod logging;
mod ports;
pub mod prefetch;
mod sdk;

pub use catalog::{CatalogCache, CatalogLoadError};
pub use config::{ConfigError, GitHubSettings, S3Location, Vars, pages_signing_key};
pub use error::{ErrorClass, HandlerError, settle};
pub use github::{GitHub, LazyGitHub, SetupError};
pub use init::{INIT_ERROR_TYPE, report_init_error};
pub use logging::init_tracing;
pub use ports::{CloudPorts, NoTasks};
pub use prefetch::Prefetch;
pub use sdk::sdk_config;
