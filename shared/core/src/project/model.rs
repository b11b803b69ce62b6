//! A build project, field for field as `aws codebuild batch-get-projects` prints it.
//!
//! Every field is optional so that real CodeBuild output, which carries many fields kiln does
//! not use, is accepted as is. kiln's own settings sit under the `kiln` key.

use serde::{Deserialize, Serialize};

/// One build project.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// `name`.
    pub name: String,
    /// `source`.
    #[serde(default)]
    pub source: Option<ProjectSource>,
    /// `environment`.
    #[serde(default)]
    pub environment: Option<ProjectEnvironment>,
    /// `artifacts`.
    #[serde(default)]
    pub artifacts: Option<ProjectArtifacts>,
    /// `secondaryArtifacts`.
    #[serde(default)]
    pub secondary_artifacts: Vec<ProjectArtifacts>,
    /// `cache`.
    #[serde(default)]
    pub cache: Option<ProjectCache>,
    /// `timeoutInMinutes` (5 to 2160; 60 when absent).
    #[serde(default)]
    pub timeout_in_minutes: Option<u32>,
    /// `webhook`.
    #[serde(default)]
    pub webhook: Option<Webhook>,
    /// `buildStatusConfig`, which CodeBuild prints under `source` but kiln also accepts at the top.
    #[serde(default)]
    pub build_status_config: Option<BuildStatusConfig>,
    /// kiln's own settings.
    #[serde(default)]
    pub kiln: Option<KilnSettings>,
}

/// `source`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSource {
    /// `type`: `GITHUB`, `NO_SOURCE`, ...
    #[serde(default, rename = "type")]
    pub source_type: Option<String>,
    /// `location`: the repository URL.
    #[serde(default)]
    pub location: Option<String>,
    /// `buildspec`: a path in the source, or a whole buildspec inline.
    #[serde(default)]
    pub buildspec: Option<String>,
    /// `reportBuildStatus`.
    #[serde(default)]
    pub report_build_status: Option<bool>,
    /// `buildStatusConfig`, where CodeBuild puts it.
    #[serde(default)]
    pub build_status_config: Option<BuildStatusConfig>,
    /// `gitCloneDepth`: how many commits to fetch; 0 or absent for the whole history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_clone_depth: Option<u32>,
    /// `gitSubmodulesConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_submodules_config: Option<GitSubmodulesConfig>,
}

/// `source.gitSubmodulesConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitSubmodulesConfig {
    /// `fetchSubmodules`.
    #[serde(default)]
    pub fetch_submodules: bool,
}

/// `environment`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectEnvironment {
    /// `type`: `LINUX_CONTAINER`, `ARM_CONTAINER`, ...
    #[serde(default, rename = "type")]
    pub environment_type: Option<String>,
    /// `image`.
    #[serde(default)]
    pub image: Option<String>,
    /// `computeType`.
    #[serde(default)]
    pub compute_type: Option<String>,
    /// `environmentVariables`.
    #[serde(default)]
    pub environment_variables: Vec<EnvironmentVariable>,
    /// `privilegedMode`.
    #[serde(default)]
    pub privileged_mode: Option<bool>,
}

/// One of `environment.environmentVariables`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentVariable {
    /// `name`.
    pub name: String,
    /// `value`: the text, or the parameter name / secret reference for those types.
    pub value: String,
    /// `type`: `PLAINTEXT` (default), `PARAMETER_STORE` or `SECRETS_MANAGER`.
    #[serde(default, rename = "type")]
    pub variable_type: Option<String>,
}

/// `artifacts` and each of `secondaryArtifacts`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectArtifacts {
    /// `type`: `S3`, `NO_ARTIFACTS` or `CODEPIPELINE`.
    #[serde(default, rename = "type")]
    pub artifacts_type: Option<String>,
    /// `location`: the bucket.
    #[serde(default)]
    pub location: Option<String>,
    /// `path`: a key prefix.
    #[serde(default)]
    pub path: Option<String>,
    /// `namespaceType`: `NONE` (default) or `BUILD_ID`.
    #[serde(default)]
    pub namespace_type: Option<String>,
    /// `name`: object or folder name; `/` for the root.
    #[serde(default)]
    pub name: Option<String>,
    /// `packaging`: `NONE` (default) or `ZIP`.
    #[serde(default)]
    pub packaging: Option<String>,
    /// `overrideArtifactName`: use the buildspec's `artifacts.name`.
    #[serde(default)]
    pub override_artifact_name: Option<bool>,
    /// `encryptionDisabled`.
    #[serde(default)]
    pub encryption_disabled: Option<bool>,
    /// `artifactIdentifier` (secondary artifacts).
    #[serde(default)]
    pub artifact_identifier: Option<String>,
    /// `bucketOwnerAccess`.
    #[serde(default)]
    pub bucket_owner_access: Option<String>,
}

/// `cache`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectCache {
    /// `type`: `NO_CACHE`, `S3` or `LOCAL`.
    #[serde(default, rename = "type")]
    pub cache_type: Option<String>,
    /// `location`: `bucket` or `bucket/prefix`.
    #[serde(default)]
    pub location: Option<String>,
    /// `modes` (LOCAL caches).
    #[serde(default)]
    pub modes: Vec<String>,
    /// `cacheNamespace`: lets projects share keyed entries.
    #[serde(default)]
    pub cache_namespace: Option<String>,
}

/// `webhook`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// `filterGroups`: groups are OR'd, the filters of a group AND'd.
    #[serde(default)]
    pub filter_groups: Vec<Vec<WebhookFilter>>,
    /// `buildType`: `BUILD` or `BUILD_BATCH`.
    #[serde(default)]
    pub build_type: Option<String>,
    /// The legacy `branchFilter` regex.
    #[serde(default)]
    pub branch_filter: Option<String>,
}

/// One filter of a filter group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookFilter {
    /// `type`: `EVENT`, `HEAD_REF`, `BASE_REF`, `FILE_PATH`, ...
    #[serde(rename = "type")]
    pub filter_type: String,
    /// `pattern`: event names for EVENT, a regular expression otherwise.
    pub pattern: String,
    /// `excludeMatchedPattern`.
    #[serde(default)]
    pub exclude_matched_pattern: Option<bool>,
}

/// `buildStatusConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildStatusConfig {
    /// `context`, with `$CODEBUILD_*` expansion.
    #[serde(default)]
    pub context: Option<String>,
    /// `targetUrl`, with `$CODEBUILD_*` expansion.
    #[serde(default)]
    pub target_url: Option<String>,
}

/// kiln's own per-project settings, under the `kiln` key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KilnSettings {
    /// `forkPullRequests`: `without-secrets` (default), `never` or `always`.
    #[serde(default)]
    pub fork_pull_requests: Option<String>,
    /// `skipDraftPullRequests` (default true).
    #[serde(default)]
    pub skip_draft_pull_requests: Option<bool>,
    /// `skipCiMarkers` (default true).
    #[serde(default)]
    pub skip_ci_markers: Option<bool>,
    /// `supersede` (default false): a newer push to the same branch, or a new head of the same
    /// pull request, stops this project's older builds of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersede: Option<bool>,
    /// `spot` (default false): run the project's builds on Fargate Spot, falling back to
    /// on-demand Fargate when Spot has no capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<bool>,
    /// `publicBuilds` (default false): anyone may read the project's build pages, logs and
    /// badges; otherwise a build's page is reached only through the signed link in its commit
    /// status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_builds: Option<bool>,
}
