//! Build projects in CodeBuild's project JSON field names, the catalog and webhook filter groups.

mod catalog;
mod defaults;
mod filter;
mod model;
mod request;
mod resolve;
mod settings;
mod validate;

pub use catalog::{Catalog, CatalogError, load_catalog, looks_like_catalog};
pub use defaults::{
    BuildspecSource, DEFAULT_COMPUTE_TYPE, DEFAULT_ENVIRONMENT_TYPE, DEFAULT_IMAGE, DEFAULT_REGION,
    DEFAULT_TIMEOUT_MINUTES, LOCAL_ACCOUNT,
};
pub use filter::{FilterError, FilterGroups, FilterInput, FilterType, Verdict};
pub use model::*;
pub use request::{BuildRequest, EnvVar, LocalEventError, request_for_local_event};
pub use resolve::{Extra, Intake, IntakeError, Resolution, Resolver, ResolverError, Skipped};
pub use settings::{
    DEFAULT_GITHUB_HOST, ForkPolicy, RepositoryLocation, SKIP_MARKERS, Settings,
    github_host_of_api_url, project_location, project_repository, repository_key,
    repository_location, skip_marker,
};
pub use validate::is_project_name;
