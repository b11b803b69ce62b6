//! Where a build lives: its source directory (`CODEBUILD_SRC_DIR`) and a private directory for
//! kiln's own state (the shell's saved state, the helper tools).
//!
//! - a description with a workspace (local runs): `<workspace>/src` and `<workspace>/state`;
//!   a directory source built in place uses the directory itself as the source;
//! - without one (a container): CodeBuild's layout, `/codebuild/output/src<nine digits>/src`
//!   [OBS for the form, spec §3; the `github.com/<owner>/<repo>` suffix CodeBuild may add is
//!   not used, INF], with the state in `/codebuild/output/kiln-<build uuid>`.

use std::path::PathBuf;

use kiln_core::build::{BuildDescription, SourceSpec};

/// The directories of one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// `CODEBUILD_SRC_DIR`.
    pub src_dir: PathBuf,
    /// kiln's private state, readable by kiln's user only.
    pub state_dir: PathBuf,
}

impl Workspace {
    /// The directories `description` asks for (nothing is created).
    pub fn of(description: &BuildDescription) -> Self {
        let base = description.workspace.clone();
        let in_place = match &description.source {
            SourceSpec::Directory { path, in_place: true, .. } => Some(path.clone()),
            _ => None,
        };
        match base {
            Some(base) => Self {
                src_dir: in_place.unwrap_or_else(|| base.join("src")),
                state_dir: base.join("state"),
            },
            None => {
                let digits = description
                    .build
                    .uuid
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .chain(std::iter::repeat(b'0'))
                    .take(9)
                    .map(char::from)
                    .collect::<String>();
                let output = PathBuf::from("/codebuild/output");
                Self {
                    src_dir: in_place
                        .unwrap_or_else(|| output.join(format!("src{digits}")).join("src")),
                    state_dir: output.join(format!("kiln-{}", description.build.uuid)),
                }
            }
        }
    }
}
