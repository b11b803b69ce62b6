//! What a project gets when it leaves a setting out, in one place: the defaults CodeBuild
//! applies (spec §2.6, §4.4), and where its buildspec comes from (spec §1.1).

use super::model::Project;

/// `timeoutInMinutes` when absent: 60, as CodeBuild's.
pub const DEFAULT_TIMEOUT_MINUTES: u32 = 60;

/// `environment.image` when absent [INF: CodeBuild requires one; kiln builds on Amazon Linux's
/// standard image's name so `CODEBUILD_BUILD_IMAGE` is never empty].
pub const DEFAULT_IMAGE: &str = "aws/codebuild/amazonlinux-x86_64-standard:5.0";

/// `environment.computeType` when absent: the smallest general-purpose type.
pub const DEFAULT_COMPUTE_TYPE: &str = "BUILD_GENERAL1_SMALL";

/// `environment.type` when absent.
pub const DEFAULT_ENVIRONMENT_TYPE: &str = "LINUX_CONTAINER";

/// The AWS region of a build when the installation names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The account id of builds that run on one machine, with no AWS account.
pub const LOCAL_ACCOUNT: &str = "000000000000";

/// Where a build's buildspec comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildspecSource {
    /// `buildspec.yml` at the source root.
    Default,
    /// A path relative to the source root.
    Path(String),
    /// The whole buildspec text.
    Inline(String),
}

impl BuildspecSource {
    /// The source for a `buildspecOverride` or `source.buildspec` setting: a YAML mapping
    /// containing a `version:` key is an inline buildspec [INF, spec §1.1], anything else a
    /// path.
    pub fn from_setting(setting: Option<&str>) -> Self {
        match setting.map(str::trim) {
            None | Some("") => Self::Default,
            Some(text) if text.lines().any(|l| l.trim_start().starts_with("version:")) => {
                Self::Inline(text.to_owned())
            }
            Some(path) => Self::Path(path.to_owned()),
        }
    }

    /// The path in the source, when the buildspec is a file there (`buildspec.yml` for the
    /// default).
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Default => Some("buildspec.yml"),
            Self::Path(p) => Some(p),
            Self::Inline(_) => None,
        }
    }
}

impl Project {
    /// Whether anyone may read the project's build pages, logs and badges
    /// (`kiln.publicBuilds`, false by default).
    pub fn builds_are_public(&self) -> bool {
        self.kiln.as_ref().and_then(|k| k.public_builds).unwrap_or(false)
    }

    /// `timeoutInMinutes`, or [`DEFAULT_TIMEOUT_MINUTES`].
    pub fn timeout_minutes(&self) -> u32 {
        self.timeout_in_minutes.unwrap_or(DEFAULT_TIMEOUT_MINUTES)
    }

    /// `environment.image`, or [`DEFAULT_IMAGE`].
    pub fn image(&self) -> &str {
        self.environment.as_ref().and_then(|e| e.image.as_deref()).unwrap_or(DEFAULT_IMAGE)
    }

    /// `environment.computeType`, or [`DEFAULT_COMPUTE_TYPE`].
    pub fn compute_type(&self) -> &str {
        self.environment
            .as_ref()
            .and_then(|e| e.compute_type.as_deref())
            .unwrap_or(DEFAULT_COMPUTE_TYPE)
    }

    /// `environment.type`, or [`DEFAULT_ENVIRONMENT_TYPE`].
    pub fn environment_type(&self) -> &str {
        self.environment
            .as_ref()
            .and_then(|e| e.environment_type.as_deref())
            .unwrap_or(DEFAULT_ENVIRONMENT_TYPE)
    }

    /// Where the buildspec comes from: `override_setting` (start-build's `buildspecOverride`,
    /// `kiln run --buildspec`), else `source.buildspec`, else the default file.
    pub fn buildspec_source(&self, override_setting: Option<&str>) -> BuildspecSource {
        BuildspecSource::from_setting(
            override_setting.or_else(|| self.source.as_ref().and_then(|s| s.buildspec.as_deref())),
        )
    }

    /// The project's `buildStatusConfig`, wherever the file put it (under `source`, as
    /// CodeBuild prints it, or at the top).
    pub fn status_config(&self) -> Option<&super::model::BuildStatusConfig> {
        self.source
            .as_ref()
            .and_then(|s| s.build_status_config.as_ref())
            .or(self.build_status_config.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_or_path() {
        assert_eq!(BuildspecSource::from_setting(None), BuildspecSource::Default);
        assert_eq!(
            BuildspecSource::from_setting(Some("ci/b.yml")),
            BuildspecSource::Path("ci/b.yml".into())
        );
        assert!(matches!(
            BuildspecSource::from_setting(Some("version: 0.2\nphases: {}\n")),
            BuildspecSource::Inline(_)
        ));
    }

    #[test]
    fn defaults() {
        let p = Project { name: "p".into(), ..Project::default() };
        assert_eq!(p.timeout_minutes(), 60);
        assert_eq!(p.image(), DEFAULT_IMAGE);
        assert_eq!(p.buildspec_source(Some("x.yml")), BuildspecSource::Path("x.yml".into()));
    }
}
