//! End to end in the cloud's shape: a build launched with `EcsTaskRunner` against the AWS
//! emulator, the task moto recorded read back (`DescribeTasks`, `DescribeTaskDefinition`), and
//! the agent binary run with that task's entry point, command and environment in a stand-in
//! for its build container ([`container`]: root, CodeBuild's `/codebuild` made by the agent),
//! against the same emulator. The build fetches its git source over HTTP with the GitHub
//! App token handed over through the state bucket, reads its secret from SSM, and leaves its
//! artifacts under CodeBuild's keys and its summary in the state bucket; no secret or
//! credential is in what ECS holds, and the token reaches neither the build nor its log.

mod container;

use std::sync::Arc;

use aws_sdk_ecs::types::{KeyValuePair, Task, TaskDefinition};
use kiln_aws::{AssignPublicIp, AwsConfig, EcsTaskRunner};
use kiln_core::build::{
    Build, BuildDescription, BuildEnvironment, BuildIdentity, BuildState, BuildSummary, GitSource,
    RECORD_FORMAT, SourceSpec, Status,
};
use kiln_core::ports::{PortFuture, SourceCredentials, TaskRunner};
use kiln_core::project::Project;
use kiln_core::webhook::{CommitSha, RepoFullName};
use kiln_tests::GitRepo;
use kiln_tests::git_http::GitHttp;
use kiln_tests::moto as aws;

/// The value behind the project's PARAMETER_STORE variable.
const SECRET_VALUE: &str = "s3cr3t-from-ssm-for-the-task-test";
/// The GitHub App token the fake credentials mint.
const APP_TOKEN: &str = "ghs_kilnTaskTestInstallationToken01";

const BUILDSPEC: &str = r#"version: 0.2
phases:
  build:
    commands:
      - echo "home=$HOME src=$CODEBUILD_SRC_DIR uid=$(id -u) commit=$CODEBUILD_RESOLVED_SOURCE_VERSION"
      - echo "token=$TOKEN"
      - printf '%s' "$TOKEN" > token.txt
      - env > env.txt
      - echo hello > hello.txt
artifacts:
  files:
    - hello.txt
    - env.txt
    - token.txt
"#;

/// A GitHub App's credentials: one token for the one repository asked for.
struct App;

impl SourceCredentials for App {
    fn fetch_token<'a>(
        &'a self,
        repo: &'a RepoFullName,
    ) -> PortFuture<'a, Option<secrecy::SecretString>> {
        Box::pin(async move {
            assert_eq!(repo.as_str(), "octo/app");
            Ok(Some(APP_TOKEN.into()))
        })
    }
}

fn now_ms() -> i64 {
    i64::try_from(time_ms()).unwrap_or(i64::MAX)
}

fn time_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

fn project(git_url: &str, artifacts_bucket: &str) -> Project {
    let text = serde_json::json!({
        "name": "app",
        "source": {"type": "GITHUB", "location": git_url},
        "environment": {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": [
                {"name": "TOKEN", "value": "/kiln/task-test/token", "type": "PARAMETER_STORE"},
                {"name": "GREETING", "value": "hello"}
            ]
        },
        "artifacts": {"type": "S3", "location": artifacts_bucket, "name": "out",
                      "namespaceType": "NONE", "packaging": "NONE"}
    });
    serde_json::from_value(text).unwrap_or_else(|e| panic!("project: {e}"))
}

fn build(project: &Project, git_url: &str, commit: &str) -> Build {
    Build {
        kiln_record_format: RECORD_FORMAT,
        identity: BuildIdentity {
            project: project.name.clone(),
            uuid: "7c0ffee0-1234-4abc-8def-000000000007".into(),
            number: 7,
            region: aws::REGION.into(),
            account: "123456789012".into(),
        },
        idempotency_key: "e2e-task-key".into(),
        revision: 1,
        state: BuildState::Queued,
        reason: None,
        webhook: None,
        source: SourceSpec::Git(GitSource {
            url: git_url.into(),
            commit: Some(CommitSha::parse(commit).unwrap_or_else(|e| panic!("sha: {e}"))),
            fetch_ref: Some("refs/heads/main".into()),
            clone_depth: Some(1),
            fetch_submodules: false,
        }),
        source_version: Some(commit.into()),
        resolved_source_version: Some(commit.into()),
        initiator: "GitHub-Hookshot/e2e".into(),
        start_time: now_ms(),
        end_time: None,
        environment: BuildEnvironment {
            image: project.image().to_owned(),
            compute_type: project.compute_type().to_owned(),
            environment_type: project.environment_type().to_owned(),
        },
        timeout_seconds: 600,
        with_secrets: true,
        buildspec_override: None,
        builtin_variables: Vec::new(),
        environment_variables_override: Vec::new(),
        task: None,
        status_report: None,
    }
}

async fn object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let got = s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    got.body.collect().await.ok().map(|b| b.into_bytes().to_vec())
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let listed = s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await;
    let listed = listed.unwrap_or_else(|e| panic!("list {bucket}/{prefix}: {e:?}"));
    listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
}

/// What the task's build container is: entry point + command, and its environment (the
/// definition's, then RunTask's overrides).
fn build_container(
    task: &Task,
    definition: &TaskDefinition,
) -> (Vec<String>, Vec<(String, String)>) {
    let container = definition
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some("build"))
        .unwrap_or_else(|| panic!("the build container"));
    let overrides = task
        .overrides()
        .and_then(|o| o.container_overrides().iter().find(|c| c.name() == Some("build")));
    let command = overrides
        .map(|o| o.command().to_vec())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| container.command().to_vec());
    let argv = container.entry_point().iter().cloned().chain(command).collect();
    let pair = |kv: &KeyValuePair| {
        (kv.name().unwrap_or_default().to_owned(), kv.value().unwrap_or_default().to_owned())
    };
    let mut env: Vec<(String, String)> = container.environment().iter().map(pair).collect();
    env.extend(
        overrides.map(|o| o.environment().iter().map(pair).collect::<Vec<_>>()).unwrap_or_default(),
    );
    (argv, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_runs_in_its_task_as_the_agent_runs_there() {
    let Some(url) = aws::moto_url() else { return };
    if let Err(reason) = container::available() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
        eprintln!("skipping: {reason}");
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let repo = GitRepo::new(dir.path(), "octo/app");
    let sha = repo.commit(&[("buildspec.yml", BUILDSPEC)], "first");
    let git = GitHttp::start(&repo.root());
    let git_url = git.url("octo/app");

    let sdk = aws::sdk(&url).await;
    let s3 = kiln_aws::s3_client(&sdk);
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let cluster = aws::unique("kiln-task");
    assert!(ecs.create_cluster().cluster_name(&cluster).send().await.is_ok());
    let (subnet, group) = aws::network(&url);
    let state = aws::unique("kiln-state").to_ascii_lowercase();
    let artifacts = aws::unique("kiln-artifacts").to_ascii_lowercase();
    for bucket in [&state, &artifacts] {
        assert!(s3.create_bucket().bucket(bucket).send().await.is_ok(), "bucket {bucket}");
    }
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let put = ssm
        .put_parameter()
        .name("/kiln/task-test/token")
        .value(SECRET_VALUE)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await;
    assert!(put.is_ok(), "{put:?}");
    let config = AwsConfig {
        state_bucket: state.clone(),
        cluster: cluster.clone(),
        subnets: vec![subnet],
        security_groups: vec![group],
        assign_public_ip: AssignPublicIp::Enabled,
        execution_role_arn: "arn:aws:iam::123456789012:role/kiln-execution".into(),
        task_role_arn: "arn:aws:iam::123456789012:role/kiln-build".into(),
        untrusted_task_role_arn: "arn:aws:iam::123456789012:role/kiln-untrusted".into(),
        log_group: "/kiln/builds".into(),
        init_image: kiln_aws::DEFAULT_INIT_IMAGE.into(),
    };
    let runner = EcsTaskRunner::new(&sdk, config)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_source_credentials(Arc::new(App));
    let p = project(&git_url, &artifacts);
    let description = BuildDescription::of(&build(&p, &git_url, &sha), &p);
    let handle =
        runner.start(&description, "e2e-task-key").await.unwrap_or_else(|e| panic!("start: {e:?}"));

    let described = ecs.describe_tasks().cluster(&cluster).tasks(&handle.0).send().await;
    let task = described.ok().and_then(|d| d.tasks().first().cloned());
    let task = task.unwrap_or_else(|| panic!("moto knows task {handle}"));
    let arn = task.task_definition_arn().unwrap_or_default().to_owned();
    let defined = ecs.describe_task_definition().task_definition(&arn).send().await;
    let definition = defined.ok().and_then(|d| d.task_definition().cloned());
    let definition = definition.unwrap_or_else(|| panic!("moto knows {arn}"));
    let held = format!("{task:?} {definition:?}");
    for secret in [APP_TOKEN, SECRET_VALUE, aws::ACCESS_KEY, aws::SECRET_KEY] {
        assert!(!held.contains(secret), "ECS holds {secret}");
    }
    let (argv, task_env) = build_container(&task, &definition);
    let description_url = format!("s3://{state}/builds/app/7/description.json");
    assert_eq!(argv[..3], ["/kiln/kiln-agent", "--description", description_url.as_str()]);
    assert_eq!(argv.get(3).map(String::as_str), Some("--source-token"));
    let token_url = argv.get(4).cloned().unwrap_or_default();
    let token_key =
        token_url.strip_prefix(&format!("s3://{state}/")).unwrap_or_default().to_owned();
    assert!(token_key.starts_with("builds/app/7/source-token-"), "{token_url}");
    let handed = object(&s3, &state, &token_key).await;
    assert_eq!(handed.as_deref(), Some(APP_TOKEN.as_bytes()), "the token waits in its object");

    // The task's environment as ECS gives it: the definition's and RunTask's variables, an
    // image's PATH, and (standing in for the task role's container credentials and for the
    // regional endpoints) the emulator's credentials and URL.
    let mut env = task_env;
    env.extend(
        [
            ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            ("HOSTNAME", "ip-10-0-1-7"),
            ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", aws::SECRET_KEY),
            ("AWS_ENDPOINT_URL", url.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    assert!(env.iter().any(|(k, v)| k == "AWS_REGION" && v == aws::REGION), "{env:?}");
    let root = dir.path().join("container");
    std::fs::create_dir(&root).unwrap_or_else(|e| panic!("root: {e}"));
    let agent = kiln_tests::workspace_binary("kiln-agent");
    let out = tokio::task::spawn_blocking(move || container::run(&root, &agent, &argv, &env))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{log}\n{stderr}");

    assert!(log.contains("[Container] "), "CodeBuild's log lines: {log}");
    assert!(
        log.contains("Entering phase DOWNLOAD_SOURCE")
            && log.contains("Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED"),
        "{log}"
    );
    assert!(log.contains("home=/root src=/codebuild/output/src"), "{log}");
    assert!(log.contains(&format!("uid=0 commit={sha}")), "{log}");
    assert!(log.contains("token=***"), "the SSM value is masked: {log}");
    for leak in [APP_TOKEN, SECRET_VALUE] {
        assert!(!log.contains(leak) && !stderr.contains(leak), "the log holds {leak}");
    }
    let sent = git.authorizations.lock().map(|a| a.clone()).unwrap_or_default();
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("x-access-token:{APP_TOKEN}")
        )
    );
    assert!(sent.iter().flatten().any(|a| a == &basic), "git fetched with the app token: {sent:?}");
    assert_eq!(object(&s3, &state, &token_key).await, None, "the agent deleted the token's object");

    let summary = object(&s3, &state, "builds/app/7/summary.json").await;
    let summary = summary.unwrap_or_else(|| panic!("the summary is in the state bucket"));
    let summary = BuildSummary::from_json(&summary).unwrap_or_else(|e| panic!("summary: {e}"));
    assert_eq!(summary.build_status, Status::Succeeded);
    assert_eq!(summary.resolved_source_version.as_deref(), Some(sha.as_str()));
    let location = summary.artifacts.as_ref().map(|a| a.location.clone()).unwrap_or_default();
    assert_eq!(location, format!("s3://{artifacts}/out"));
    let mut stored = keys(&s3, &artifacts, "").await;
    stored.sort();
    assert_eq!(stored, ["out/env.txt", "out/hello.txt", "out/token.txt"]);
    assert_eq!(object(&s3, &artifacts, "out/hello.txt").await.as_deref(), Some(&b"hello\n"[..]));
    assert_eq!(
        object(&s3, &artifacts, "out/token.txt").await.as_deref(),
        Some(SECRET_VALUE.as_bytes())
    );
    let build_env =
        String::from_utf8(object(&s3, &artifacts, "out/env.txt").await.unwrap_or_default())
            .unwrap_or_default();
    assert!(build_env.lines().any(|l| l == "HOME=/root"), "{build_env}");
    assert!(build_env.lines().any(|l| l == format!("AWS_REGION={}", aws::REGION)), "{build_env}");
    assert!(!build_env.contains(APP_TOKEN) && !build_env.contains("KILN_"), "{build_env}");
    let left = keys(&s3, &state, "builds/app/7/").await;
    assert!(!left.iter().any(|k| k.contains("source-token")), "{left:?}");
}
