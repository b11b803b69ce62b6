//! `kiln serve`'s flags and the environment it reads, once: the webhook secret
//! (`KILN_WEBHOOK_SECRET`) and the GitHub credentials (`GITHUB_TOKEN`, or `KILN_GITHUB_APP_ID` +
//! `KILN_GITHUB_APP_KEY_FILE`). Secrets are `SecretString`s from here on.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;

/// Arguments of `kiln serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "The webhook secret comes from KILN_WEBHOOK_SECRET (required). GitHub \
credentials come from GITHUB_TOKEN (a token), or KILN_GITHUB_APP_ID and KILN_GITHUB_APP_KEY_FILE \
(a GitHub App and its private key); without either, builds still run but no commit status is \
posted.\n\nRoutes: POST /webhook; GET / (recent builds); GET /builds/{project}/{number} (the \
build page); GET /builds/{project}/{number}/log; GET /api/builds/{project}/{number} (the build as \
JSON, as kiln run --summary writes it); GET /badges/{project}.svg[?branch=NAME]; GET /healthz.")]
pub struct Args {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The project catalog (CodeBuild's project field names, YAML or JSON).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Where build state, logs, working copies and the local object store live.
    #[arg(long, value_name = "DIR", default_value = ".kiln")]
    data_dir: PathBuf,
    /// GitHub's API (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    github_api: String,
    /// The URL people reach this server at, for the build links in commit statuses (default:
    /// http://ADDR).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// How many builds run at once; the others wait (default: the number of CPUs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    max_parallel: Option<u16>,
    /// Values of the builds' parameter-store and secrets-manager variables: NAME=VALUE lines.
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
}

/// How `kiln serve` authenticates to GitHub.
pub enum GitHubAuth {
    /// A token.
    Token(SecretString),
    /// A GitHub App: its id and private key (PEM).
    App {
        /// The App's id.
        id: u64,
        /// Its private key.
        key: SecretString,
    },
    /// None: statuses are not posted.
    None,
}

/// Everything `kiln serve` runs with.
pub struct Config {
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--config`.
    pub catalog: PathBuf,
    /// `--data-dir`, absolute.
    pub data_dir: PathBuf,
    /// `--github-api`.
    pub github_api: String,
    /// `--public-url`, or `http://` and the address listened on.
    pub public_url: Option<String>,
    /// `--max-parallel` or the number of CPUs.
    pub max_parallel: usize,
    /// `--secrets`.
    pub secrets: Option<PathBuf>,
    /// `KILN_WEBHOOK_SECRET`.
    pub webhook_secret: SecretString,
    /// The GitHub credentials.
    pub github: GitHubAuth,
    /// The agent binary: beside this one (`kiln-agent`), or `KILN_AGENT_BINARY`.
    pub agent: PathBuf,
    /// The region and account builds belong to.
    pub settings: kiln_core::service::Settings,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("github_api", &self.github_api)
            .finish_non_exhaustive()
    }
}

/// Why `kiln serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No webhook secret.
    #[error("KILN_WEBHOOK_SECRET is not set: it must hold the secret of the GitHub webhook")]
    NoSecret,
    /// A GitHub App id without a key, or the other way round.
    #[error("set both KILN_GITHUB_APP_ID and KILN_GITHUB_APP_KEY_FILE, or GITHUB_TOKEN")]
    HalfApp,
    /// The App id is not a number.
    #[error("KILN_GITHUB_APP_ID must be the App's numeric id")]
    AppId,
    /// The key file could not be read.
    #[error("read the GitHub App key {0}")]
    AppKey(PathBuf, #[source] std::io::Error),
    /// The data directory could not be made.
    #[error("prepare data directory {0}")]
    DataDir(PathBuf, #[source] std::io::Error),
    /// The catalog could not be read or is invalid.
    #[error("{0}")]
    Catalog(String),
    /// The agent binary is missing.
    #[error("the kiln-agent binary is not at {0}: build it (cargo build) or set KILN_AGENT_BINARY")]
    NoAgent(PathBuf),
    /// The GitHub adapter could not be built.
    #[error("set up GitHub")]
    GitHub(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The address could not be listened on.
    #[error("listen on {0}")]
    Listen(String, #[source] std::io::Error),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Reads the flags and the environment.
    ///
    /// # Errors
    /// [`ServeError`] naming what is missing or wrong.
    pub fn read(args: Args) -> Result<Self, ServeError> {
        let webhook_secret =
            var("KILN_WEBHOOK_SECRET").map(SecretString::from).ok_or(ServeError::NoSecret)?;
        let github =
            match (var("GITHUB_TOKEN"), var("KILN_GITHUB_APP_ID"), var("KILN_GITHUB_APP_KEY_FILE"))
            {
                (_, Some(id), Some(key)) => {
                    let id = id.parse().map_err(|_| ServeError::AppId)?;
                    let path = PathBuf::from(key);
                    let key =
                        std::fs::read_to_string(&path).map_err(|e| ServeError::AppKey(path, e))?;
                    GitHubAuth::App { id, key: SecretString::from(key) }
                }
                (_, Some(_), None) | (_, None, Some(_)) => return Err(ServeError::HalfApp),
                (Some(token), None, None) => GitHubAuth::Token(SecretString::from(token)),
                (None, None, None) => GitHubAuth::None,
            };
        std::fs::create_dir_all(&args.data_dir)
            .map_err(|e| ServeError::DataDir(args.data_dir.clone(), e))?;
        let data_dir = args
            .data_dir
            .canonicalize()
            .map_err(|e| ServeError::DataDir(args.data_dir.clone(), e))?;
        let agent = var("KILN_AGENT_BINARY").map(PathBuf::from).unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|d| d.join("kiln-agent")))
                .unwrap_or_else(|| PathBuf::from("kiln-agent"))
        });
        if !agent.is_file() {
            return Err(ServeError::NoAgent(agent));
        }
        let max_parallel = args.max_parallel.map_or_else(
            || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            usize::from,
        );
        Ok(Self {
            listen: args.listen,
            catalog: args.config,
            data_dir,
            github_api: args.github_api,
            public_url: args.public_url,
            max_parallel,
            secrets: args.secrets,
            webhook_secret,
            github,
            agent,
            settings: crate::settings::local(),
        })
    }
}
