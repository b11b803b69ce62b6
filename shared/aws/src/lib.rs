//! kiln's ports in AWS: build state, objects and log archives in S3, tasks on ECS Fargate, logs
//! in CloudWatch Logs, secrets in SSM Parameter Store and Secrets Manager, build state changes on
//! EventBridge. Every adapter is built from one
//! [`aws_config::SdkConfig`] ([`load_sdk_config`]: region, credentials and `AWS_ENDPOINT_URL`
//! from the environment) and the installation's [`AwsConfig`]:
//!
//! ```text
//! let sdk = kiln_aws::load_sdk_config().await;
//! let config = kiln_aws::AwsConfig::from_env()?;          // names a missing variable
//! let builds = kiln_aws::S3BuildStore::new(&sdk, &config.state_bucket);
//! let objects = kiln_aws::S3ObjectStore::new(&sdk);
//! let secrets = kiln_aws::AwsSecretStore::new(&sdk);
//! let logs = kiln_aws::CloudWatchLogsReader::new(&sdk, &config.log_group);
//! let runner = kiln_aws::EcsTaskRunner::new(&sdk, config)?;  // needs a region
//! let archive = kiln_aws::S3LogArchive::new(&sdk, &config.state_bucket);
//! let events = kiln_aws::EventBridgeBuildEvents::new(&sdk, Some(config.log_group.clone()));
//! ```
//!
//! Errors are [`kiln_core::ports::PortError`]s whose kind comes from [`error::classify`]; the
//! source is an [`AwsError`] with the service's code, HTTP status and message.
//! [`fargate_problems`] says what of a project Fargate cannot run, for the catalog's checks.

mod archive;
mod builds;
mod builtin_roots;
mod config;
pub mod ecs;
pub mod error;
mod events;
mod logs;
mod multipart;
mod objects;
mod sdk;
mod secrets;

pub use archive::S3LogArchive;
pub use builds::S3BuildStore;
pub use builtin_roots::builtin_roots_http_client;
pub use config::{AssignPublicIp, AwsConfig, AwsConfigError, DEFAULT_INIT_IMAGE};
pub use ecs::{EcsTaskRunner, S3Url, Unsupported, fargate_problems, pullable_image};
pub use error::AwsError;
pub use events::EventBridgeBuildEvents;
pub use logs::{CloudWatchLogsReader, LogEvent, LogPage, log_stream_name};
pub use objects::{Multipart, S3ObjectStore};
pub use sdk::{LazyClient, http_client, load_sdk_config, s3_client};
pub use secrets::AwsSecretStore;
