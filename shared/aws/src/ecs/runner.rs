//! `EcsTaskRunner`: the [`TaskRunner`] port on ECS Fargate.
//!
//! `start`:
//! 1. sizes the task from the project (`computeType`, `environment.type`) and maps its image
//!    ([`super::compute`], [`super::images`]); a project Fargate cannot run fails `Permanent`;
//! 2. looks for a task started with the same token (`ListTasks` by `startedBy`, running and
//!    stopped), and returns it if there is one: a repeated start starts nothing, even where
//!    RunTask's `clientToken` (also sent) has expired or is not honoured;
//! 3. writes the description to `s3://<state bucket>/builds/<project>/<n>/description.json`;
//!    with [`EcsTaskRunner::with_source_credentials`] and a git source, asks them for a token
//!    that reads the one repository and, when they give one (a GitHub App's), writes it to a
//!    one-use object beside the description ([`super::handover`]);
//! 4. finds the task definition of (project, image, size, architecture) in its cache, with
//!    `DescribeTaskDefinition`, or registers it ([`super::definition`]);
//! 5. runs it: `awsvpc` on `KILN_SUBNETS` and `KILN_SECURITY_GROUPS`, the task role by trust
//!    (`KILN_TASK_ROLE_ARN`, or `KILN_UNTRUSTED_TASK_ROLE_ARN` when the build may not read
//!    secrets), the build container's command `--description s3://…` (and
//!    `--source-token s3://…` when a token was handed over), tags naming project, number and
//!    build id. When no task starts, the token's object is deleted again. With `kiln.spot: true` the task asks for `FARGATE_SPOT`; when Spot
//!    has no capacity it runs on on-demand Fargate with a token derived from the first (so the
//!    fallback is idempotent too). Fargate Spot runs no arm64 tasks: arm64 builds run
//!    on-demand.
//!
//! `stop` is `StopTask` with the reason (an ended or unknown task is left alone); `describe`
//! is `DescribeTasks` ([`super::state`]). Neither the task's command nor its environment
//! holds a secret or a credential: the build reads its secrets itself, with the task role, and
//! its source token from the state bucket.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_ecs::Client as EcsClient;
use aws_sdk_ecs::types::{
    AssignPublicIp as EcsPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem,
    ContainerOverride, DesiredStatus, LaunchType, NetworkConfiguration, Tag, TaskOverride,
};
use aws_sdk_s3::primitives::ByteStream;
use kiln_core::build::{BuildDescription, BuildRef, SourceSpec, TaskHandle, layout};
use kiln_core::ports::{
    PortError, PortErrorKind, PortFuture, SourceCredentials, TaskRunner, TaskState,
};
use kiln_core::project::repository_key;
use kiln_core::webhook::RepoFullName;
use tokio::sync::Mutex;

use super::BUILD_CONTAINER;
use super::compute::{Arch, Unsupported, arch_of, task_size};
use super::definition::DefinitionSpec;
use super::handover::{self, S3Url};
use super::images::pullable_image;
use super::state::{client_token, started_by, task_state};
use crate::config::{AssignPublicIp, AwsConfig, AwsConfigError};
use crate::error::{aws_error, port_error, service_code};

/// Runs builds as ECS Fargate tasks; see the module docs.
pub struct EcsTaskRunner {
    ecs: crate::LazyClient<EcsClient>,
    s3: crate::LazyClient<aws_sdk_s3::Client>,
    config: AwsConfig,
    region: String,
    definitions: Mutex<HashMap<String, String>>,
    credentials: Option<Arc<dyn SourceCredentials>>,
}

impl std::fmt::Debug for EcsTaskRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcsTaskRunner")
            .field("config", &self.config)
            .field("region", &self.region)
            .field("source_credentials", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

/// How a start asks for capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capacity {
    OnDemand,
    Spot,
}

impl EcsTaskRunner {
    /// A runner with the clients of `sdk`, configured by `config`.
    ///
    /// # Errors
    /// [`AwsConfigError::Missing`] naming `AWS_REGION` when the SDK configuration has no
    /// region (the awslogs driver needs one).
    pub fn new(sdk: &aws_config::SdkConfig, config: AwsConfig) -> Result<Self, AwsConfigError> {
        let region =
            sdk.region().map(ToString::to_string).ok_or(AwsConfigError::Missing("AWS_REGION"))?;
        Ok(Self {
            ecs: crate::LazyClient::new(sdk, EcsClient::new),
            s3: crate::LazyClient::new(sdk, crate::s3_client),
            config,
            region,
            definitions: Mutex::new(HashMap::new()),
            credentials: None,
        })
    }

    /// The same runner handing each git build a token from `credentials` (a GitHub App's
    /// one-repository token), through a one-use object in the state bucket.
    #[must_use]
    pub fn with_source_credentials(mut self, credentials: Arc<dyn SourceCredentials>) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The configuration it runs tasks with.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// The task definition `start` would use for `description`: its spec (and family).
    ///
    /// # Errors
    /// [`Unsupported`] when Fargate cannot run the project.
    pub fn definition_for(
        &self,
        description: &BuildDescription,
    ) -> Result<DefinitionSpec, Unsupported> {
        let project = &description.project;
        let arch = arch_of(project.environment_type())?;
        let size = task_size(project.compute_type(), arch)?;
        let image = pullable_image(&description.image)?;
        Ok(DefinitionSpec {
            project: description.build.project.clone(),
            image: image.image,
            size,
            execution_role_arn: self.config.execution_role_arn.clone(),
            log_group: self.config.log_group.clone(),
            region: self.region.clone(),
            init_image: self.config.init_image.clone(),
            state_bucket: self.config.state_bucket.clone(),
        })
    }

    /// The task definition ARN of `spec`: cached, found, or registered.
    async fn definition_arn(&self, spec: &DefinitionSpec) -> Result<String, PortError> {
        let family = spec.family();
        let mut cache = self.definitions.lock().await;
        if let Some(arn) = cache.get(&family) {
            return Ok(arn.clone());
        }
        let op = || format!("describe task definition {family}");
        let found = self.ecs.describe_task_definition().task_definition(&family).send().await;
        let arn = match found {
            Ok(output) => output
                .task_definition()
                .filter(|d| d.status().is_none_or(|s| s.as_str() == "ACTIVE"))
                .and_then(|d| d.task_definition_arn())
                .map(str::to_owned),
            Err(e) if is_missing_definition(&e) => None,
            Err(e) => return Err(port_error(op(), e)),
        };
        let arn = match arn {
            Some(arn) => arn,
            None => {
                let op = || format!("register task definition {family}");
                let register = spec
                    .register(&self.ecs)
                    .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
                let output = register.send().await.map_err(|e| port_error(op(), e))?;
                output
                    .task_definition()
                    .and_then(|d| d.task_definition_arn())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        PortError::new(PortErrorKind::Unavailable, format!("{}: no arn", op()))
                    })?
            }
        };
        cache.insert(family, arn.clone());
        Ok(arn)
    }

    /// A task already started with `token`, if ECS still knows one.
    async fn started_with(&self, token: &str) -> Result<Option<TaskHandle>, PortError> {
        for status in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let listed = self
                .ecs
                .list_tasks()
                .cluster(&self.config.cluster)
                .started_by(started_by(token))
                .desired_status(status)
                .send()
                .await
                .map_err(|e| {
                    port_error(format!("list tasks of cluster {}", self.config.cluster), e)
                })?;
            if let Some(arn) = listed.task_arns().first() {
                return Ok(Some(TaskHandle(arn.clone())));
            }
        }
        Ok(None)
    }

    async fn write_description(&self, description: &BuildDescription) -> Result<String, PortError> {
        let at = BuildRef::new(description.build.project.clone(), description.build.number);
        let key = layout::description_key(&at);
        let op = || format!("write {}/{key}", self.config.state_bucket);
        let json = serde_json::to_vec_pretty(description)
            .map_err(|e| PortError::new(PortErrorKind::Permanent, op()).with_source(e))?;
        self.s3
            .put_object()
            .bucket(&self.config.state_bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(json))
            .send()
            .await
            .map_err(|e| port_error(op(), e))?;
        Ok(format!("s3://{}/{key}", self.config.state_bucket))
    }

    fn run_task(
        &self,
        description: &BuildDescription,
        definition_arn: &str,
        urls: (&str, Option<&S3Url>),
        token: &str,
        capacity: Capacity,
    ) -> Result<aws_sdk_ecs::operation::run_task::builders::RunTaskFluentBuilder, PortError> {
        let (description_url, source_token) = urls;
        let invalid = |e| {
            PortError::new(PortErrorKind::Permanent, "build the run task request").with_source(e)
        };
        let network = AwsVpcConfiguration::builder()
            .set_subnets(Some(self.config.subnets.clone()))
            .set_security_groups(Some(self.config.security_groups.clone()))
            .assign_public_ip(match self.config.assign_public_ip {
                AssignPublicIp::Enabled => EcsPublicIp::Enabled,
                AssignPublicIp::Disabled => EcsPublicIp::Disabled,
            })
            .build()
            .map_err(invalid)?;
        let mut command = ContainerOverride::builder()
            .name(BUILD_CONTAINER)
            .command("--description")
            .command(description_url);
        if let Some(url) = source_token {
            command = command.command("--source-token").command(url.to_string());
        }
        let overrides = TaskOverride::builder()
            .task_role_arn(self.config.task_role_for(description.with_secrets))
            .container_overrides(command.build())
            .build();
        let build = &description.build;
        let tag = |key: &str, value: String| Tag::builder().key(key).value(value).build();
        let mut run = self
            .ecs
            .run_task()
            .cluster(&self.config.cluster)
            .task_definition(definition_arn)
            .count(1)
            .client_token(client_token(token))
            .started_by(started_by(token))
            .network_configuration(
                NetworkConfiguration::builder().awsvpc_configuration(network).build(),
            )
            .overrides(overrides)
            .enable_ecs_managed_tags(true)
            .tags(tag("kiln:project", build.project.clone()))
            .tags(tag("kiln:build-number", build.number.to_string()))
            .tags(tag("kiln:build-id", build.id()));
        run = match capacity {
            Capacity::OnDemand => run.launch_type(LaunchType::Fargate),
            Capacity::Spot => run.capacity_provider_strategy(
                CapacityProviderStrategyItem::builder()
                    .capacity_provider("FARGATE_SPOT")
                    .weight(1)
                    .build()
                    .map_err(invalid)?,
            ),
        };
        Ok(run)
    }

    /// Hands the build's source token over when its credentials give one (module docs).
    async fn hand_over_token(
        &self,
        description: &BuildDescription,
    ) -> Result<Option<S3Url>, PortError> {
        let (Some(credentials), SourceSpec::Git(git)) = (&self.credentials, &description.source)
        else {
            return Ok(None);
        };
        let Some(repo) = repository_key(&git.url).and_then(|k| RepoFullName::parse(&k).ok()) else {
            return Ok(None);
        };
        let Some(token) = credentials.fetch_token(&repo).await? else { return Ok(None) };
        let at = BuildRef::new(description.build.project.clone(), description.build.number);
        handover::put_source_token(&self.s3, &self.config.state_bucket, &at, &token).await.map(Some)
    }

    async fn start_inner(
        &self,
        description: &BuildDescription,
        token: &str,
    ) -> Result<TaskHandle, PortError> {
        let at = format!("{} #{}", description.build.project, description.build.number);
        let spec = self.definition_for(description).map_err(|e| {
            PortError::new(PortErrorKind::Permanent, format!("start build {at}")).with_source(e)
        })?;
        if let Some(task) = self.started_with(token).await? {
            return Ok(task);
        }
        let url = self.write_description(description).await?;
        let source_token = self.hand_over_token(description).await?;
        let started = self.launch(description, &spec, (&url, source_token.as_ref()), token).await;
        if let (Err(_), Some(object)) = (&started, &source_token)
            && let Err(e) = handover::delete(&self.s3, object).await
        {
            tracing::warn!(build = %at, error = %kiln_core::error_chain(&e), "the unused source token could not be deleted");
        }
        started
    }

    /// Steps 4 and 5 of the module docs: the definition, then RunTask (Spot first when asked).
    async fn launch(
        &self,
        description: &BuildDescription,
        spec: &DefinitionSpec,
        urls: (&str, Option<&S3Url>),
        token: &str,
    ) -> Result<TaskHandle, PortError> {
        let at = format!("{} #{}", description.build.project, description.build.number);
        let definition = self.definition_arn(spec).await?;
        let spot = description.project.kiln.as_ref().and_then(|k| k.spot).unwrap_or(false)
            && spec.size.arch == Arch::X86_64;
        let op = || format!("run task {} for build {at}", spec.family());
        if spot {
            let answer =
                self.run_task(description, &definition, urls, token, Capacity::Spot)?.send().await;
            match answer {
                Ok(output) => match first_task(&output) {
                    Ok(task) => return Ok(task),
                    Err(reason) if no_capacity(&reason) => {
                        tracing::info!(build = %at, %reason, "no fargate spot capacity; running on demand");
                    }
                    Err(reason) => return Err(refused(op(), &reason)),
                },
                Err(e) => {
                    let (kind, error) = aws_error(e);
                    if !error.message.as_deref().is_some_and(no_capacity) {
                        return Err(PortError::new(kind, op()).with_source(error));
                    }
                    tracing::info!(build = %at, "no fargate spot capacity; running on demand");
                }
            }
            let fallback = format!("{token}/on-demand");
            let output = self
                .run_task(description, &definition, urls, &fallback, Capacity::OnDemand)?
                .started_by(started_by(token))
                .send()
                .await
                .map_err(|e| port_error(op(), e))?;
            return first_task(&output).map_err(|reason| refused(op(), &reason));
        }
        let output = self
            .run_task(description, &definition, urls, token, Capacity::OnDemand)?
            .send()
            .await
            .map_err(|e| port_error(op(), e))?;
        first_task(&output).map_err(|reason| refused(op(), &reason))
    }

    async fn describe_inner(&self, task: &TaskHandle) -> Result<TaskState, PortError> {
        let output = self
            .ecs
            .describe_tasks()
            .cluster(&self.config.cluster)
            .tasks(&task.0)
            .send()
            .await
            .map_err(|e| port_error(format!("describe task {task}"), e))?;
        Ok(output
            .tasks()
            .iter()
            .find(|t| t.task_arn() == Some(task.0.as_str()))
            .or_else(|| output.tasks().first())
            .map_or(TaskState::Unknown, task_state))
    }

    async fn stop_inner(&self, task: &TaskHandle, reason: &str) -> Result<(), PortError> {
        if matches!(self.describe_inner(task).await?, TaskState::Unknown | TaskState::Stopped(_)) {
            return Ok(());
        }
        let reason: String = reason.chars().take(255).collect();
        let answer = self
            .ecs
            .stop_task()
            .cluster(&self.config.cluster)
            .task(&task.0)
            .reason(reason)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(e) if service_code(&e) == Some("InvalidParameterException") => {
                let (kind, error) = aws_error(e);
                if error.message.as_deref().is_some_and(|m| m.contains("not found")) {
                    Ok(())
                } else {
                    Err(PortError::new(kind, format!("stop task {task}")).with_source(error))
                }
            }
            Err(e) => Err(port_error(format!("stop task {task}"), e)),
        }
    }
}

/// The handle of the task RunTask started, or the reason it started none.
fn first_task(
    output: &aws_sdk_ecs::operation::run_task::RunTaskOutput,
) -> Result<TaskHandle, String> {
    if let Some(arn) = output.tasks().first().and_then(|t| t.task_arn()) {
        return Ok(TaskHandle(arn.to_owned()));
    }
    let reasons: Vec<String> = output
        .failures()
        .iter()
        .map(|f| {
            let mut reason = f.reason().unwrap_or("no reason given").to_owned();
            if let Some(detail) = f.detail() {
                reason.push_str(": ");
                reason.push_str(detail);
            }
            reason
        })
        .collect();
    Err(if reasons.is_empty() {
        "ecs started no task and gave no reason".to_owned()
    } else {
        reasons.join("; ")
    })
}

/// Whether ECS's reason says Fargate (Spot) has no capacity now.
fn no_capacity(reason: &str) -> bool {
    let lower = reason.to_ascii_lowercase();
    lower.contains("capacity is unavailable") || lower.contains("insufficient capacity")
}

/// A start ECS refused: retryable when it was for capacity.
fn refused(operation: String, reason: &str) -> PortError {
    let kind =
        if no_capacity(reason) { PortErrorKind::Unavailable } else { PortErrorKind::Permanent };
    PortError::new(kind, format!("{operation}: {reason}"))
}

/// Whether DescribeTaskDefinition said the family has no definition.
fn is_missing_definition<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool {
    match error {
        aws_smithy_runtime_api::client::result::SdkError::ServiceError(context) => {
            let e = context.err();
            e.code() == Some("ClientException")
                && e.message().is_some_and(|m| m.contains("Unable to describe task definition"))
        }
        _ => false,
    }
}

impl TaskRunner for EcsTaskRunner {
    fn start<'a>(
        &'a self,
        description: &'a BuildDescription,
        client_token: &'a str,
    ) -> PortFuture<'a, TaskHandle> {
        Box::pin(self.start_inner(description, client_token))
    }

    fn stop<'a>(&'a self, task: &'a TaskHandle, reason: &'a str) -> PortFuture<'a, ()> {
        Box::pin(self.stop_inner(task, reason))
    }

    fn describe<'a>(&'a self, task: &'a TaskHandle) -> PortFuture<'a, TaskState> {
        Box::pin(self.describe_inner(task))
    }
}
