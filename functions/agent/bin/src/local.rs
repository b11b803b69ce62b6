//! The agent under a local runner (`kiln serve`'s child processes): the description and the
//! secrets from files, objects and build state under the data directory, the source
//! credential from `KILN_GIT_TOKEN`.

use std::path::Path;

use kiln_agent::source::FetchCredential;
use kiln_core::build::{BuildDescription, DescriptionError};
use kiln_local::{FileSecretStore, FsBuildStore, FsObjectStore};

use crate::wiring::Wired;

/// Why a local build could not be wired.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The description could not be read.
    #[error("read the build description {0}")]
    Read(String, #[source] std::io::Error),
    /// The description is too large or unreadable.
    #[error("read the build description {0}")]
    Limit(String, #[source] kiln_core::limits::LimitError),
    /// The description is not one.
    #[error("read the build description {0}")]
    Description(String, #[source] DescriptionError),
    /// The secrets file could not be read.
    #[error(transparent)]
    Secrets(#[from] kiln_local::secrets::SecretsFileError),
}

/// The build of the description file `description`, with the data directory `data_dir`.
///
/// # Errors
/// [`LocalError`] when a file cannot be read.
pub fn wire(
    description: &Path,
    data_dir: &Path,
    secrets: Option<&Path>,
) -> Result<Wired, LocalError> {
    let name = description.display().to_string();
    let file = std::fs::File::open(description).map_err(|e| LocalError::Read(name.clone(), e))?;
    let bytes = kiln_core::limits::read_limited(file, kiln_core::limits::BUILD_DESCRIPTION)
        .map_err(|e| LocalError::Limit(name.clone(), e))?;
    let description =
        BuildDescription::from_json(&bytes).map_err(|e| LocalError::Description(name, e))?;
    let secrets = match secrets {
        Some(path) => FileSecretStore::open(path)?,
        None => FileSecretStore::empty(),
    };
    Ok(Wired {
        description,
        store: Box::new(FsObjectStore::new(data_dir)),
        secrets: Box::new(secrets),
        builds: Box::new(FsBuildStore::new(data_dir)),
        credential: FetchCredential::new(crate::config::git_token()),
    })
}
