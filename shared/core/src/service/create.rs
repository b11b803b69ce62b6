//! A new build record: number, identity, defaults, where statuses go, written idempotently.

use crate::build::{
    Build, BuildEnvironment, BuildIdentity, BuildState, NameValue, RECORD_FORMAT, SourceSpec,
    StatusReport, WebhookOrigin,
};
use crate::ports::{Created, PortError};
use crate::project::Project;
use crate::webhook::{CommitSha, RepoFullName};

use super::Settings;
use crate::ports::{BuildStore, Clock};

/// What to build, before it has a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    /// The idempotency key: a delivery and a project, or a fresh id for a manual build.
    pub key: String,
    /// The source.
    pub source: SourceSpec,
    /// `sourceVersion` as requested.
    pub source_version: Option<String>,
    /// The commit, when known before the fetch.
    pub resolved_source_version: Option<String>,
    /// `initiator`.
    pub initiator: String,
    /// A timeout instead of the project's `timeoutInMinutes` (`kiln run --timeout`).
    pub timeout_seconds: Option<u64>,
    /// Whether the build may read the project's secrets.
    pub with_secrets: bool,
    /// `buildspecOverride`.
    pub buildspec_override: Option<String>,
    /// `CODEBUILD_WEBHOOK_*`.
    pub builtin_variables: Vec<NameValue>,
    /// `environmentVariablesOverride`.
    pub environment_variables_override: Vec<NameValue>,
    /// The delivery, for webhook builds.
    pub webhook: Option<WebhookOrigin>,
    /// The commit to report statuses on, for builds that report them (webhook builds always
    /// do, spec §7.5).
    pub report_on: Option<(RepoFullName, CommitSha)>,
}

/// Claims a number and writes the record of `plan` for `project`, unless a record already has
/// its key: then nothing is claimed or written and that record is returned.
///
/// # Errors
/// The build store's [`PortError`].
pub async fn create_build(
    builds: &dyn BuildStore,
    clock: &dyn Clock,
    settings: &Settings,
    project: &Project,
    plan: BuildPlan,
) -> Result<Created, PortError> {
    if let Some(existing) = builds.find(&plan.key).await? {
        return Ok(Created::Existing(existing));
    }
    let number = builds.claim_number(&project.name).await?;
    let identity = BuildIdentity {
        project: project.name.clone(),
        uuid: uuid::Uuid::new_v4().to_string(),
        number,
        region: settings.region.clone(),
        account: settings.account.clone(),
    };
    let timeout_seconds =
        plan.timeout_seconds.unwrap_or_else(|| u64::from(project.timeout_minutes()) * 60);
    let mut build = Build {
        kiln_record_format: RECORD_FORMAT,
        identity,
        idempotency_key: plan.key,
        revision: 1,
        state: BuildState::Queued,
        reason: None,
        webhook: plan.webhook,
        source: plan.source,
        source_version: plan.source_version,
        resolved_source_version: plan.resolved_source_version,
        initiator: plan.initiator,
        start_time: clock.now_ms(),
        end_time: None,
        environment: BuildEnvironment {
            image: project.image().to_owned(),
            compute_type: project.compute_type().to_owned(),
            environment_type: project.environment_type().to_owned(),
        },
        timeout_seconds,
        with_secrets: plan.with_secrets,
        buildspec_override: plan.buildspec_override,
        builtin_variables: plan.builtin_variables,
        environment_variables_override: plan.environment_variables_override,
        task: None,
        status_report: None,
    };
    build.status_report = plan.report_on.map(|(repository, commit)| {
        let env = status_env(&build, project);
        let (context, target_url) = crate::status::status_target(
            project.status_config(),
            &settings.region,
            &project.name,
            &env,
        );
        let target_url = target_url
            .or_else(|| settings.pages.as_ref().map(|p| p.build_page(&build.build_ref())));
        StatusReport { repository, commit, context, target_url, posted: None }
    });
    builds.create(&build).await
}

/// The variables `buildStatusConfig` templates may use: the build's `CODEBUILD_*` ones, the
/// region, and the project's plain variables (never a secret).
fn status_env(build: &Build, project: &Project) -> Vec<(String, String)> {
    let id = &build.identity;
    let mut env: Vec<(String, String)> = project
        .environment
        .iter()
        .flat_map(|e| &e.environment_variables)
        .filter(|v| v.variable_type.as_deref().is_none_or(|t| t == "PLAINTEXT"))
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect();
    env.extend([
        ("AWS_REGION".to_owned(), id.region.clone()),
        ("AWS_DEFAULT_REGION".to_owned(), id.region.clone()),
        ("CODEBUILD_BUILD_ID".to_owned(), id.id()),
        ("CODEBUILD_BUILD_ARN".to_owned(), id.arn()),
        ("CODEBUILD_BUILD_NUMBER".to_owned(), id.number.to_string()),
        ("CODEBUILD_BUILD_IMAGE".to_owned(), build.environment.image.clone()),
        ("CODEBUILD_INITIATOR".to_owned(), build.initiator.clone()),
        ("CODEBUILD_START_TIME".to_owned(), build.start_time.to_string()),
    ]);
    if let Some(v) = &build.source_version {
        env.push(("CODEBUILD_SOURCE_VERSION".to_owned(), v.clone()));
    }
    if let Some(v) = &build.resolved_source_version {
        env.push(("CODEBUILD_RESOLVED_SOURCE_VERSION".to_owned(), v.clone()));
    }
    env.extend(build.builtin_variables.iter().map(|v| (v.name.clone(), v.value.clone())));
    env
}
