//! Where artifacts go in S3: project artifact settings (§4.4) read into a typed layout.
//!
//! Key layout: `[path/][s3-prefix/][<build-uuid>/][name]`, each part trimmed of `/` and empty
//! parts dropped, so `name` `/` puts the artifact at the root (or directly under the build id).
//! Choices [INF], written down here:
//! - the build id segment of `namespaceType` BUILD_ID is the UUID part of `CODEBUILD_BUILD_ID`;
//! - `s3-prefix` applies only with BUILD_ID (as documented: `<s3-prefix>/<build-id>/<name>`),
//!   after the project `path`;
//! - a project without `artifacts` (a local run with no project file) uploads to bucket
//!   [`LOCAL_DEFAULT_BUCKET`] with BUILD_ID, packaging NONE and name = the project name; an S3
//!   artifact without `location` uses the same bucket;
//! - `name` absent means the project name.

use crate::project::ProjectArtifacts;

/// The bucket a local run uses when the project names none.
pub const LOCAL_DEFAULT_BUCKET: &str = "kiln-artifacts";

/// Why project artifact settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactsError {
    /// An enum field has a value kiln does not know.
    #[error("invalid value {value:?} for {field}")]
    InvalidValue {
        /// The field path (`artifacts.packaging`).
        field: String,
        /// The value found.
        value: String,
    },
}

/// `namespaceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// `NONE`: no build id in the key.
    None,
    /// `BUILD_ID`: the build's UUID between the path and the name.
    BuildId,
}

/// `packaging`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packaging {
    /// `NONE`: one object per file under the folder key.
    None,
    /// `ZIP`: one object, the archive, at the key (no `.zip` added).
    Zip,
}

/// Project artifact settings, typed and defaulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactSettings {
    /// The bucket (`location`).
    pub bucket: String,
    /// `path`.
    pub path: String,
    /// `namespaceType`.
    pub namespace: Namespace,
    /// `name`.
    pub name: String,
    /// `packaging`.
    pub packaging: Packaging,
    /// `overrideArtifactName`.
    pub override_name: bool,
    /// `artifactIdentifier` (secondary artifacts).
    pub identifier: Option<String>,
}

/// Whether `type` uploads anything: `Ok(false)` for NO_ARTIFACTS (and CODEPIPELINE, which
/// kiln does not drive), `Ok(true)` for S3 or absent; an unknown type is an error naming `field`.
pub fn artifact_type_enabled(
    artifacts: Option<&ProjectArtifacts>,
    field: &str,
) -> Result<bool, ArtifactsError> {
    match artifacts.and_then(|a| a.artifacts_type.as_deref()) {
        None => Ok(true),
        Some(t) if t.eq_ignore_ascii_case("S3") => Ok(true),
        Some(t)
            if t.eq_ignore_ascii_case("NO_ARTIFACTS") || t.eq_ignore_ascii_case("CODEPIPELINE") =>
        {
            Ok(false)
        }
        Some(t) => Err(ArtifactsError::InvalidValue {
            field: format!("{field}.type"),
            value: t.to_owned(),
        }),
    }
}

impl ArtifactSettings {
    /// Reads `artifacts` (or one of `secondaryArtifacts`, `field` naming which) of project
    /// `project_name`; `None` gives the local defaults.
    pub fn from_project(
        artifacts: Option<&ProjectArtifacts>,
        project_name: &str,
        field: &str,
    ) -> Result<Self, ArtifactsError> {
        let Some(a) = artifacts else {
            return Ok(Self {
                bucket: LOCAL_DEFAULT_BUCKET.to_owned(),
                path: String::new(),
                namespace: Namespace::BuildId,
                name: project_name.to_owned(),
                packaging: Packaging::None,
                override_name: false,
                identifier: None,
            });
        };
        let invalid = |key: &str, value: &str| ArtifactsError::InvalidValue {
            field: format!("{field}.{key}"),
            value: value.to_owned(),
        };
        let namespace = match a.namespace_type.as_deref() {
            None => Namespace::None,
            Some(v) if v.eq_ignore_ascii_case("NONE") => Namespace::None,
            Some(v) if v.eq_ignore_ascii_case("BUILD_ID") => Namespace::BuildId,
            Some(v) => return Err(invalid("namespaceType", v)),
        };
        let packaging = match a.packaging.as_deref() {
            None => Packaging::None,
            Some(v) if v.eq_ignore_ascii_case("NONE") => Packaging::None,
            Some(v) if v.eq_ignore_ascii_case("ZIP") => Packaging::Zip,
            Some(v) => return Err(invalid("packaging", v)),
        };
        Ok(Self {
            bucket: a
                .location
                .clone()
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| LOCAL_DEFAULT_BUCKET.to_owned()),
            path: a.path.clone().unwrap_or_default(),
            namespace,
            name: a.name.clone().unwrap_or_else(|| project_name.to_owned()),
            packaging,
            override_name: a.override_artifact_name.unwrap_or(false),
            identifier: a.artifact_identifier.clone(),
        })
    }
}

/// The resolved key of one artifact upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactLayout {
    /// The bucket.
    pub bucket: String,
    /// The object key (ZIP) or folder key (NONE; empty for the bucket root).
    pub key: String,
    /// The packaging.
    pub packaging: Packaging,
}

impl ArtifactLayout {
    /// The layout for `settings`, the build's UUID, the effective name (the project name or the
    /// evaluated buildspec name) and the buildspec `s3-prefix`.
    pub fn new(
        settings: &ArtifactSettings,
        build_uuid: &str,
        name: &str,
        s3_prefix: Option<&str>,
    ) -> Self {
        let mut out: Vec<String> = Vec::new();
        let mut add =
            |text: &str| out.extend(text.split('/').filter(|p| !p.is_empty()).map(str::to_owned));
        add(&settings.path);
        if settings.namespace == Namespace::BuildId {
            add(s3_prefix.unwrap_or(""));
            add(build_uuid);
        }
        add(name);
        Self { bucket: settings.bucket.clone(), key: out.join("/"), packaging: settings.packaging }
    }

    /// The key of one file of a NONE-packaged artifact.
    pub fn file_key(&self, relative: &str) -> String {
        if self.key.is_empty() { relative.to_owned() } else { format!("{}/{relative}", self.key) }
    }

    /// `s3://bucket/key` as the build summary's `location` shows it.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "0f8e2a7c-1111-4222-8333-444455556666";

    fn project(path: Option<&str>, ns: &str, name: &str, packaging: &str) -> ProjectArtifacts {
        ProjectArtifacts {
            artifacts_type: Some("S3".into()),
            location: Some("bkt".into()),
            path: path.map(Into::into),
            namespace_type: Some(ns.into()),
            name: Some(name.into()),
            packaging: Some(packaging.into()),
            ..Default::default()
        }
    }

    fn layout(a: &ProjectArtifacts, prefix: Option<&str>) -> ArtifactLayout {
        let s = ArtifactSettings::from_project(Some(a), "proj", "artifacts").expect("valid");
        ArtifactLayout::new(&s, UUID, &s.name, prefix)
    }

    #[test]
    fn worked_key_examples_of_the_spec() {
        assert_eq!(
            layout(&project(Some("MyPath"), "NONE", "MyArtifact.zip", "ZIP"), None).location(),
            "s3://bkt/MyPath/MyArtifact.zip"
        );
        assert_eq!(
            layout(&project(Some("MyPath"), "BUILD_ID", "MyArtifact.zip", "ZIP"), None).key,
            format!("MyPath/{UUID}/MyArtifact.zip")
        );
        let root = layout(&project(None, "NONE", "/", "NONE"), None);
        assert_eq!(root.key, "");
        assert_eq!(root.file_key("a.txt"), "a.txt");
        assert_eq!(
            layout(&project(Some("MyPath"), "BUILD_ID", "/", "NONE"), None).file_key("a"),
            format!("MyPath/{UUID}/a")
        );
        assert_eq!(
            layout(&project(None, "NONE", "out", "NONE"), None).file_key("d/b.txt"),
            "out/d/b.txt"
        );
    }

    #[test]
    fn s3_prefix_applies_with_build_id_only() {
        assert_eq!(
            layout(&project(None, "BUILD_ID", "a.zip", "ZIP"), Some("pre/")).key,
            format!("pre/{UUID}/a.zip")
        );
        assert_eq!(layout(&project(None, "NONE", "a.zip", "ZIP"), Some("pre")).key, "a.zip");
    }

    #[test]
    fn local_defaults_and_invalid_values() {
        let s = ArtifactSettings::from_project(None, "proj", "artifacts").expect("defaults");
        assert_eq!(
            ArtifactLayout::new(&s, UUID, &s.name, None).location(),
            format!("s3://kiln-artifacts/{UUID}/proj")
        );
        let bad = project(None, "NONE", "x", "TAR");
        let err =
            ArtifactSettings::from_project(Some(&bad), "proj", "artifacts").expect_err("invalid");
        assert_eq!(err.to_string(), "invalid value \"TAR\" for artifacts.packaging");
        let odd = ProjectArtifacts { artifacts_type: Some("FTP".into()), ..Default::default() };
        assert!(artifact_type_enabled(Some(&odd), "artifacts").is_err());
        let none =
            ProjectArtifacts { artifacts_type: Some("NO_ARTIFACTS".into()), ..Default::default() };
        assert_eq!(artifact_type_enabled(Some(&none), "artifacts"), Ok(false));
    }
}
