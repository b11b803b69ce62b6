//! kiln's ports over GitHub's REST API, with octocrab as the HTTP client: commit statuses
//! ([`GitHubStatusReporter`]), pull request files, commit messages and file contents
//! ([`GitHubSourceHost`]), and authentication by token or GitHub App ([`GitHubClient`],
//! which also mints the read-only source tokens builds fetch with).
//!
//! ```no_run
//! # async fn wire() -> Result<(), kiln_github::ConfigError> {
//! use kiln_github::{GitHubAuth, GitHubClient, GitHubConfig, GitHubSourceHost, GitHubStatusReporter, RetryPolicy};
//! let config = GitHubConfig::new(GitHubAuth::token("ghp_…")).api_url("https://api.github.com");
//! let client = GitHubClient::new(config)?; // within a Tokio runtime
//! let statuses = GitHubStatusReporter::new(client.clone());
//! let retrier = GitHubStatusReporter::new(client.clone()).with_retry(RetryPolicy::background());
//! let source = GitHubSourceHost::new(client);
//! # Ok(()) }
//! ```
//!
//! Every call is retried on GitHub's 5xx, rate limits (429, and 403 with `Retry-After`,
//! `x-ratelimit-remaining: 0` or a secondary-rate-limit message) and network failures, with
//! exponential backoff and jitter, honouring `Retry-After`, within the [`RetryPolicy`]'s
//! attempts and time budget; other 4xx are not. Each failure maps to a `PortErrorKind`
//! ([`GitHubError::kind`]). Tokens and keys never reach `Debug`, logs or errors.

mod app;
mod client;
mod config;
mod credentials;
mod error;
mod retry;
mod source;
mod statuses;

pub use app::SourceToken;
pub use client::GitHubClient;
pub use config::{DEFAULT_API_URL, GitHubAuth, GitHubConfig, Timeouts};
pub use error::{ConfigError, GitHubError};
pub use retry::RetryPolicy;
pub use source::GitHubSourceHost;
pub use statuses::GitHubStatusReporter;
