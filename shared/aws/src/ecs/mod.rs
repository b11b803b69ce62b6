//! Builds as ECS Fargate tasks: sizes and images, the task definition, the runner, what ECS
//! says of a task, and what a launcher hands a task through the state bucket.

pub mod compute;
pub mod definition;
pub mod handover;
pub mod images;
mod runner;
pub mod state;

pub use compute::{Arch, TaskSize, Unsupported, fargate_problems};
pub use definition::{AGENT_PATH, DefinitionSpec, agent_key};
pub use handover::{HandoverError, S3Url, S3UrlError, read_description, take_source_token};
pub use images::{ImageError, PullableImage, pullable_image};
pub use runner::EcsTaskRunner;

/// The name of the container that runs the agent.
pub const BUILD_CONTAINER: &str = "build";
/// The name of the container that puts the agent on the shared volume.
pub const INIT_CONTAINER: &str = "init";
