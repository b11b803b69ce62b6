//! `EcsTaskRunner` against the emulator: the task definition registered once and reused, one
//! family per image, size and architecture, the task recorded with the right roles, network,
//! tags, command, entry point and log configuration, describe and stop, and no secret or
//! credential anywhere in what ECS holds.

use aws_config::SdkConfig;
use aws_sdk_ecs::types::{Task, TaskDefinition, TaskField};
use kiln_aws::{AssignPublicIp, AwsConfig, EcsTaskRunner};
use kiln_core::build::{BuildDescription, TaskHandle};
use kiln_core::ports::{TaskRunner, TaskState};
use kiln_core::project::{EnvironmentVariable, KilnSettings, Project, ProjectEnvironment};

use crate::builds::build;
use crate::support;

/// The value behind the project's PARAMETER_STORE variable: it must never reach ECS.
const SECRET_VALUE: &str = "s3cr3t-value-that-stays-in-ssm";

/// A project of `image`, `compute` and environment `kind`.
pub fn project(name: &str, image: &str, compute: &str, kind: &str) -> Project {
    Project {
        name: name.into(),
        environment: Some(ProjectEnvironment {
            environment_type: Some(kind.into()),
            image: Some(image.into()),
            compute_type: Some(compute.into()),
            environment_variables: vec![
                EnvironmentVariable {
                    name: "GREETING".into(),
                    value: "hello".into(),
                    variable_type: None,
                },
                EnvironmentVariable {
                    name: "TOKEN".into(),
                    value: "/kiln/token".into(),
                    variable_type: Some("PARAMETER_STORE".into()),
                },
            ],
            ..ProjectEnvironment::default()
        }),
        kiln: Some(KilnSettings::default()),
        ..Project::default()
    }
}

/// The description of build `number` of `project`.
pub fn description(project: &Project, number: u64, with_secrets: bool) -> BuildDescription {
    let mut b = build(&project.name, number, &format!("key-{number}"), 1_700_000_000_000);
    b.environment.image = project.image().to_owned();
    b.environment.compute_type = project.compute_type().to_owned();
    b.environment.environment_type = project.environment_type().to_owned();
    b.with_secrets = with_secrets;
    BuildDescription::of(&b, project)
}

/// An installation in the emulator: (config, sdk).
pub async fn installation(url: &str) -> (AwsConfig, SdkConfig) {
    let sdk = support::sdk(url).await;
    let cluster = support::unique("kiln");
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    assert!(ecs.create_cluster().cluster_name(&cluster).send().await.is_ok());
    let (subnet, group) = support::network(url);
    let bucket = support::bucket(&sdk, "kiln-state").await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let _ = ssm
        .put_parameter()
        .name("/kiln/token")
        .value(SECRET_VALUE)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await;
    let config = AwsConfig {
        state_bucket: bucket,
        cluster,
        subnets: vec![subnet],
        security_groups: vec![group],
        assign_public_ip: AssignPublicIp::Enabled,
        execution_role_arn: "arn:aws:iam::123456789012:role/kiln-execution".into(),
        task_role_arn: "arn:aws:iam::123456789012:role/kiln-build".into(),
        untrusted_task_role_arn: "arn:aws:iam::123456789012:role/kiln-untrusted".into(),
        log_group: "/kiln/builds".into(),
        init_image: kiln_aws::DEFAULT_INIT_IMAGE.into(),
    };
    (config, sdk)
}

async fn task(sdk: &SdkConfig, cluster: &str, handle: &TaskHandle) -> Task {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let described = ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(&handle.0)
        .include(TaskField::Tags)
        .send()
        .await;
    let task = described.ok().and_then(|d| d.tasks().first().cloned());
    task.unwrap_or_else(|| panic!("moto knows task {handle}"))
}

async fn definition(sdk: &SdkConfig, arn: &str) -> TaskDefinition {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let described = ecs.describe_task_definition().task_definition(arn).send().await;
    let definition = described.ok().and_then(|d| d.task_definition().cloned());
    definition.unwrap_or_else(|| panic!("moto knows task definition {arn}"))
}

fn tag(task: &Task, key: &str) -> Option<String> {
    task.tags().iter().find(|t| t.key() == Some(key)).and_then(|t| t.value().map(str::to_owned))
}

#[tokio::test]
async fn a_build_runs_as_a_fargate_task() {
    let url = moto!();
    let (config, sdk) = installation(&url).await;
    let runner = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let p =
        project("web", "aws/codebuild/standard:7.0", "BUILD_GENERAL1_MEDIUM", "LINUX_CONTAINER");
    let d = description(&p, 7, true);
    let handle = runner.start(&d, &"a".repeat(64)).await.unwrap_or_else(|e| panic!("start: {e:?}"));
    let t = task(&sdk, &config.cluster, &handle).await;
    let url_of_description = format!("s3://{}/builds/web/7/description.json", config.state_bucket);
    let overrides = t.overrides().unwrap_or_else(|| panic!("overrides"));
    assert_eq!(overrides.task_role_arn(), Some(config.task_role_arn.as_str()));
    let build_override = &overrides.container_overrides()[0];
    assert_eq!(build_override.name(), Some("build"));
    assert_eq!(build_override.command(), ["--description", url_of_description.as_str()]);
    assert_eq!(t.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    assert_eq!(t.started_by(), Some(format!("kiln/{}", "a".repeat(64)).as_str()));
    assert_eq!(tag(&t, "kiln:project").as_deref(), Some("web"));
    assert_eq!(tag(&t, "kiln:build-number").as_deref(), Some("7"));
    assert_eq!(tag(&t, "kiln:build-id"), Some(d.build.id()));
    let eni = t.attachments().first().map(|a| a.details().to_vec()).unwrap_or_default();
    let subnet = eni.iter().find(|d| d.name() == Some("subnetId")).and_then(|d| d.value());
    assert_eq!(subnet, Some(config.subnets[0].as_str()));

    let def = definition(&sdk, t.task_definition_arn().unwrap_or_default()).await;
    assert_eq!((def.cpu(), def.memory()), (Some("4096"), Some("8192")));
    assert_eq!(def.execution_role_arn(), Some(config.execution_role_arn.as_str()));
    assert_eq!(def.network_mode().map(|m| m.as_str()), Some("awsvpc"));
    assert_eq!(
        def.runtime_platform().and_then(|r| r.cpu_architecture()).map(|a| a.as_str()),
        Some("X86_64")
    );
    let containers = def.container_definitions();
    let build_c = containers
        .iter()
        .find(|c| c.name() == Some("build"))
        .unwrap_or_else(|| panic!("build container"));
    let init_c = containers
        .iter()
        .find(|c| c.name() == Some("init"))
        .unwrap_or_else(|| panic!("init container"));
    assert_eq!(build_c.image(), Some("public.ecr.aws/codebuild/standard:7.0"));
    assert_eq!(build_c.entry_point(), ["/kiln/kiln-agent"]);
    assert_eq!(build_c.essential(), Some(true));
    assert_eq!(init_c.essential(), Some(false));
    assert_eq!(init_c.image(), Some(kiln_aws::DEFAULT_INIT_IMAGE));
    let dep = &build_c.depends_on()[0];
    assert_eq!((dep.container_name(), Some(dep.condition().as_str())), ("init", Some("SUCCESS")));
    let log = build_c.log_configuration().unwrap_or_else(|| panic!("log configuration"));
    assert_eq!(log.log_driver().as_str(), "awslogs");
    let options = log.options().cloned().unwrap_or_default();
    assert_eq!(options.get("awslogs-group").map(String::as_str), Some("/kiln/builds"));
    assert_eq!(options.get("awslogs-stream-prefix").map(String::as_str), Some("web"));
    assert_eq!(options.get("awslogs-region").map(String::as_str), Some(support::REGION));
    assert!(build_c.memory_reservation().is_some_and(|m| m > 0));
    let init_env = format!("{:?}", init_c.environment());
    assert!(
        init_env.contains(&format!("s3://{}/agent/x86_64/kiln-agent", config.state_bucket)),
        "{init_env}"
    );

    let s3 = kiln_aws::s3_client(&sdk);
    let stored = s3
        .get_object()
        .bucket(&config.state_bucket)
        .key("builds/web/7/description.json")
        .send()
        .await;
    let bytes = match stored {
        Ok(o) => o.body.collect().await.map(|b| b.into_bytes().to_vec()).unwrap_or_default(),
        Err(e) => panic!("the description is in the state bucket: {e:?}"),
    };
    assert_eq!(BuildDescription::from_json(&bytes).ok(), Some(d.clone()));

    let held = format!("{t:?} {def:?} {}", String::from_utf8_lossy(&bytes));
    for secret in [SECRET_VALUE, support::SECRET_KEY, support::ACCESS_KEY] {
        assert!(!held.contains(secret), "ECS or the description holds {secret}");
    }
}

/// Starts build `n` of `p` and returns its task's definition ARN.
async fn start(
    runner: &EcsTaskRunner,
    sdk: &SdkConfig,
    cluster: &str,
    p: &Project,
    n: u64,
) -> String {
    let d = description(p, n, true);
    let handle =
        runner.start(&d, &format!("token-{n}")).await.unwrap_or_else(|e| panic!("start: {e:?}"));
    let t = task(sdk, cluster, &handle).await;
    t.task_definition_arn().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn one_definition_per_image_size_and_architecture() {
    let url = moto!();
    let (config, sdk) = installation(&url).await;
    let runner = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let small = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let first = start(&runner, &sdk, &config.cluster, &small, 1).await;
    let second = start(&runner, &sdk, &config.cluster, &small, 2).await;
    assert_eq!(first, second, "the same image and size reuse the definition");
    let fresh = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let d = description(&small, 3, true);
    let handle = fresh.start(&d, "token-3").await.unwrap_or_else(|e| panic!("{e:?}"));
    let third = task(&sdk, &config.cluster, &handle)
        .await
        .task_definition_arn()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(third, first, "a new runner finds the registered definition");
    let other_image = start(
        &runner,
        &sdk,
        &config.cluster,
        &project("web", "debian:12", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER"),
        4,
    )
    .await;
    let other_size = start(
        &runner,
        &sdk,
        &config.cluster,
        &project("web", "ubuntu:24.04", "BUILD_GENERAL1_LARGE", "LINUX_CONTAINER"),
        5,
    )
    .await;
    let arm = start(
        &runner,
        &sdk,
        &config.cluster,
        &project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "ARM_CONTAINER"),
        6,
    )
    .await;
    let family = |arn: &str| {
        arn.rsplit('/').next().and_then(|f| f.split(':').next()).unwrap_or_default().to_owned()
    };
    let families: std::collections::BTreeSet<String> =
        [&first, &other_image, &other_size, &arm].iter().map(|a| family(a)).collect();
    assert_eq!(families.len(), 4, "{families:?}");
    assert!(first.ends_with(":1"), "registered once: {first}");
    let def = definition(&sdk, &arm).await;
    assert_eq!(
        def.runtime_platform().and_then(|r| r.cpu_architecture()).map(|a| a.as_str()),
        Some("ARM64")
    );
    let init = def.container_definitions().iter().find(|c| c.name() == Some("init")).cloned();
    assert!(format!("{init:?}").contains("agent/aarch64/kiln-agent"));
    let def = definition(&sdk, &other_size).await;
    assert_eq!((def.cpu(), def.memory()), (Some("8192"), Some("16384")));
}

#[tokio::test]
async fn a_repeated_start_starts_nothing() {
    let url = moto!();
    let (config, sdk) = installation(&url).await;
    let runner = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let d = description(&p, 1, true);
    let first = runner.start(&d, "delivery-1-web").await.ok();
    let again = runner.start(&d, "delivery-1-web").await.ok();
    assert!(first.is_some());
    assert_eq!(first, again);
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let listed = ecs.list_tasks().cluster(&config.cluster).send().await;
    assert_eq!(listed.ok().map(|l| l.task_arns().len()), Some(1));
}

#[tokio::test]
async fn builds_without_secrets_get_the_untrusted_role() {
    let url = moto!();
    let (config, sdk) = installation(&url).await;
    let runner = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let handle = runner
        .start(&description(&p, 1, false), "fork-pr")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let t = task(&sdk, &config.cluster, &handle).await;
    let role = t.overrides().and_then(|o| o.task_role_arn());
    assert_eq!(role, Some(config.untrusted_task_role_arn.as_str()));
}

#[tokio::test]
async fn describe_and_stop() {
    let url = moto!();
    let (config, sdk) = installation(&url).await;
    let runner = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let handle = runner
        .start(&description(&p, 1, true), "stop-me")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(runner.describe(&handle).await.ok(), Some(TaskState::Running));
    assert!(runner.stop(&handle, "timed out after 60 minutes").await.is_ok());
    let state = runner.describe(&handle).await.ok();
    let Some(TaskState::Stopped(stop)) = state else { panic!("stopped: {state:?}") };
    assert_eq!(stop.reason.as_deref(), Some("timed out after 60 minutes"));
    assert!(runner.stop(&handle, "again").await.is_ok(), "stopping an ended task succeeds");
    let unknown = TaskHandle(format!(
        "arn:aws:ecs:{}:123456789012:task/{}/00000000000000000000000000000000",
        support::REGION,
        config.cluster
    ));
    assert_eq!(runner.describe(&unknown).await.ok(), Some(TaskState::Unknown));
    assert!(runner.stop(&unknown, "gone").await.is_ok(), "stopping an unknown task succeeds");
}

#[tokio::test]
async fn a_project_fargate_cannot_run_fails_permanently() {
    let url = moto!();
    let (config, sdk) = installation(&url).await;
    let runner = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_2XLARGE", "LINUX_CONTAINER");
    let e = runner.start(&description(&p, 1, true), "too-big").await.err();
    assert_eq!(e.as_ref().map(|e| e.kind), Some(kiln_core::ports::PortErrorKind::Permanent));
    let text = e.map(|e| kiln_core::error_chain(&e)).unwrap_or_default();
    assert!(text.contains("environment.computeType"), "{text}");
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let listed = ecs.list_tasks().cluster(&config.cluster).send().await;
    assert_eq!(listed.ok().map(|l| l.task_arns().len()), Some(0));
}

/// A GitHub App's credentials, minting one token.
pub struct App;

impl kiln_core::ports::SourceCredentials for App {
    fn fetch_token<'a>(
        &'a self,
        _repo: &'a kiln_core::webhook::RepoFullName,
    ) -> kiln_core::ports::PortFuture<'a, Option<secrecy::SecretString>> {
        Box::pin(async { Ok(Some("ghs_handedOverOnce".into())) })
    }
}

/// The description of build `number` of `p` fetching `https://github.com/octo/app`.
pub fn git_description(p: &Project, number: u64) -> BuildDescription {
    let mut d = description(p, number, true);
    d.source = kiln_core::build::SourceSpec::Git(kiln_core::build::GitSource {
        url: "https://github.com/octo/app.git".into(),
        commit: None,
        fetch_ref: Some("refs/heads/main".into()),
        clone_depth: None,
        fetch_submodules: false,
    });
    d
}

async fn state_keys(sdk: &SdkConfig, bucket: &str, prefix: &str) -> Vec<String> {
    let listed =
        kiln_aws::s3_client(sdk).list_objects_v2().bucket(bucket).prefix(prefix).send().await;
    listed
        .map(|l| l.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_token_is_handed_over_in_a_one_use_object_and_a_pat_hands_over_nothing() {
    let url = moto!();
    let (config, sdk) = installation(&url).await;
    let p = project("app", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let plain = EcsTaskRunner::new(&sdk, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let handle =
        plain.start(&git_description(&p, 1), "no-app").await.unwrap_or_else(|e| panic!("{e:?}"));
    let t = task(&sdk, &config.cluster, &handle).await;
    let command = t.overrides().map(|o| o.container_overrides()[0].command().to_vec());
    assert_eq!(command.map(|c| c.len()), Some(2), "without an app only the description: {t:?}");
    assert_eq!(
        state_keys(&sdk, &config.state_bucket, "builds/app/1/").await,
        ["builds/app/1/description.json"]
    );

    let app = EcsTaskRunner::new(&sdk, config.clone())
        .unwrap_or_else(|e| panic!("{e}"))
        .with_source_credentials(std::sync::Arc::new(App));
    let handle =
        app.start(&git_description(&p, 2), "with-app").await.unwrap_or_else(|e| panic!("{e:?}"));
    let t = task(&sdk, &config.cluster, &handle).await;
    let command =
        t.overrides().map(|o| o.container_overrides()[0].command().to_vec()).unwrap_or_default();
    assert_eq!(command.get(2).map(String::as_str), Some("--source-token"));
    let key = command
        .get(3)
        .and_then(|u| u.strip_prefix(&format!("s3://{}/", config.state_bucket)))
        .unwrap_or_default();
    assert!(key.starts_with("builds/app/2/source-token-") && key.len() == 26 + 32, "{command:?}");
    assert!(!format!("{t:?}").contains("ghs_handedOverOnce"));
    let s3 = kiln_aws::s3_client(&sdk);
    let url = kiln_aws::S3Url::parse(&command[3]).unwrap_or_else(|e| panic!("{e}"));
    let taken = kiln_aws::ecs::take_source_token(&s3, &url)
        .await
        .map(|t| secrecy::ExposeSecret::expose_secret(&t).to_owned());
    assert_eq!(taken.ok().as_deref(), Some("ghs_handedOverOnce"));
    let again = kiln_aws::ecs::take_source_token(&s3, &url).await.err().map(|e| e.kind);
    assert_eq!(again, Some(kiln_core::ports::PortErrorKind::NotFound), "a token is taken once");
}
