//! What the emulator cannot show, against the SDK's replay client: the exact RunTask request
//! (its `clientToken`), the Fargate Spot fallback, errors mapped to their kinds, and a failed
//! multipart upload aborted.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use kiln_aws::{AwsSecretStore, EcsTaskRunner, Multipart, S3ObjectStore};
use kiln_core::build::TaskHandle;
use kiln_core::ports::{ObjectStore, PortErrorKind, PutOptions, SecretStore, TaskRunner};
use kiln_core::project::KilnSettings;
use serde_json::{Value, json};

use crate::ecs::{description, project};
use crate::support;

const TASK_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:task/kiln/0123456789abcdef0123456789abcdef";
const DEFINITION_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:task-definition/kiln-0000000000000000:1";

fn answer(status: u16, body: &str) -> ReplayEvent {
    let request = http::Request::builder().uri("https://example.com/").body(SdkBody::empty());
    let response = http::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(body));
    match (request, response) {
        (Ok(req), Ok(res)) => ReplayEvent::new(req, res),
        _ => panic!("a replay event"),
    }
}

async fn sdk(replay: &StaticReplayClient) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(replay.clone())
        .region(Region::new(support::REGION))
        .credentials_provider(Credentials::new(
            support::ACCESS_KEY,
            support::SECRET_KEY,
            None,
            None,
            "replay",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

fn config() -> kiln_aws::AwsConfig {
    kiln_aws::AwsConfig {
        state_bucket: "kiln-state".into(),
        cluster: "kiln".into(),
        subnets: vec!["subnet-1".into(), "subnet-2".into()],
        security_groups: vec!["sg-1".into()],
        assign_public_ip: kiln_aws::AssignPublicIp::Disabled,
        execution_role_arn: "arn:aws:iam::123456789012:role/exec".into(),
        task_role_arn: "arn:aws:iam::123456789012:role/build".into(),
        untrusted_task_role_arn: "arn:aws:iam::123456789012:role/untrusted".into(),
        log_group: "/kiln/builds".into(),
        init_image: kiln_aws::DEFAULT_INIT_IMAGE.into(),
    }
}

/// The ECS calls the replay client saw: (operation, JSON body).
fn ecs_calls(replay: &StaticReplayClient) -> Vec<(String, Value)> {
    replay
        .actual_requests()
        .filter_map(|r| {
            let target = r.headers().get("x-amz-target")?;
            let op = target.rsplit('.').next()?.to_owned();
            let body = r
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Some((op, body))
        })
        .collect()
}

/// The answers of a first start up to RunTask: no earlier task, the description written, no
/// definition yet, then registered.
fn until_run_task() -> Vec<ReplayEvent> {
    vec![
        answer(200, r#"{"taskArns":[]}"#),
        answer(200, r#"{"taskArns":[]}"#),
        answer(200, ""),
        answer(
            400,
            r#"{"__type":"ClientException","message":"Unable to describe task definition."}"#,
        ),
        answer(
            200,
            &json!({"taskDefinition": {"taskDefinitionArn": DEFINITION_ARN, "status": "ACTIVE"}})
                .to_string(),
        ),
    ]
}

#[tokio::test]
async fn run_task_carries_the_client_token_and_the_whole_task() {
    let mut events = until_run_task();
    events
        .push(answer(200, &json!({"tasks": [{"taskArn": TASK_ARN}], "failures": []}).to_string()));
    let replay = StaticReplayClient::new(events);
    let runner =
        EcsTaskRunner::new(&sdk(&replay).await, config()).unwrap_or_else(|e| panic!("{e}"));
    let p = project(
        "web",
        "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        "BUILD_GENERAL1_SMALL",
        "LINUX_CONTAINER",
    );
    let d = description(&p, 12, true);
    let token = "f".repeat(64);
    let handle = runner.start(&d, &token).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(handle, TaskHandle(TASK_ARN.into()));
    assert_eq!(replay.actual_requests().count(), 6, "every answer was used");
    let calls = ecs_calls(&replay);
    let ops: Vec<&str> = calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        ops,
        ["ListTasks", "ListTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask"]
    );
    assert_eq!(calls[0].1["startedBy"], json!(format!("kiln/{token}")));
    assert_eq!(calls[0].1["desiredStatus"], json!("RUNNING"));
    assert_eq!(calls[1].1["desiredStatus"], json!("STOPPED"));
    let run = &calls[4].1;
    assert_eq!(run["clientToken"], json!(token));
    assert_eq!(run["startedBy"], json!(format!("kiln/{token}")));
    assert_eq!(run["cluster"], json!("kiln"));
    assert_eq!(run["taskDefinition"], json!(DEFINITION_ARN));
    assert_eq!(run["launchType"], json!("FARGATE"));
    assert_eq!(run.get("capacityProviderStrategy"), None);
    assert_eq!(
        run["networkConfiguration"],
        json!({"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}})
    );
    assert_eq!(run["overrides"]["taskRoleArn"], json!("arn:aws:iam::123456789012:role/build"));
    assert_eq!(
        run["overrides"]["containerOverrides"],
        json!([{"name": "build", "command": ["--description", "s3://kiln-state/builds/web/12/description.json"]}])
    );
    let tags = run["tags"].as_array().cloned().unwrap_or_default();
    assert!(tags.contains(&json!({"key": "kiln:project", "value": "web"})));
    assert!(tags.contains(&json!({"key": "kiln:build-number", "value": "12"})));
    let register = &calls[3].1;
    assert_eq!(register["cpu"], json!("2048"));
    assert_eq!(register["memory"], json!("4096"));
    assert_eq!(register["requiresCompatibilities"], json!(["FARGATE"]));
    assert_eq!(register["ephemeralStorage"], json!({"sizeInGiB": 64}));
    assert_eq!(
        register["containerDefinitions"][0]["image"],
        json!("public.ecr.aws/codebuild/amazonlinux-x86_64-standard:5.0")
    );
    assert_eq!(register["containerDefinitions"][0]["stopTimeout"], json!(120));
    let everything = format!("{calls:?}");
    for secret in [support::SECRET_KEY, support::ACCESS_KEY] {
        assert!(!everything.contains(secret));
    }
}

#[tokio::test]
async fn a_long_token_is_hashed_to_fit() {
    let mut events = until_run_task();
    events.push(answer(200, &json!({"tasks": [{"taskArn": TASK_ARN}]}).to_string()));
    let replay = StaticReplayClient::new(events);
    let runner =
        EcsTaskRunner::new(&sdk(&replay).await, config()).unwrap_or_else(|e| panic!("{e}"));
    let p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let token = "delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958 / project web, redelivered";
    assert!(runner.start(&description(&p, 1, true), token).await.is_ok());
    let calls = ecs_calls(&replay);
    let sent = calls[4].1["clientToken"].as_str().unwrap_or_default().to_owned();
    assert_eq!(sent.len(), 64);
    assert!(sent.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn spot_without_capacity_falls_back_to_on_demand() {
    let mut events = until_run_task();
    let no_capacity = json!({"tasks": [], "failures": [{"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/kiln", "reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone"}]});
    events.push(answer(200, &no_capacity.to_string()));
    events.push(answer(200, &json!({"tasks": [{"taskArn": TASK_ARN}]}).to_string()));
    let replay = StaticReplayClient::new(events);
    let runner =
        EcsTaskRunner::new(&sdk(&replay).await, config()).unwrap_or_else(|e| panic!("{e}"));
    let mut p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    p.kiln = Some(KilnSettings { spot: Some(true), ..KilnSettings::default() });
    let handle = runner.start(&description(&p, 3, true), "spot-token").await;
    assert_eq!(handle.ok(), Some(TaskHandle(TASK_ARN.into())));
    let calls = ecs_calls(&replay);
    let ops: Vec<&str> = calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(ops[4..], ["RunTask", "RunTask"]);
    let (spot, on_demand) = (&calls[4].1, &calls[5].1);
    assert_eq!(
        spot["capacityProviderStrategy"],
        json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    );
    assert_eq!(spot.get("launchType"), None);
    assert_eq!(spot["clientToken"], json!("spot-token"));
    assert_eq!(on_demand["launchType"], json!("FARGATE"));
    assert_eq!(on_demand.get("capacityProviderStrategy"), None);
    let fallback = on_demand["clientToken"].as_str().unwrap_or_default();
    assert_ne!(fallback, "spot-token");
    assert_eq!(fallback, "spot-token/on-demand", "a token of its own, derived from the first");
    assert_eq!(
        on_demand["startedBy"],
        json!("kiln/spot-token"),
        "found again by the same startedBy"
    );
}

#[tokio::test]
async fn arm_builds_run_on_demand_even_with_spot() {
    let mut events = until_run_task();
    events.push(answer(200, &json!({"tasks": [{"taskArn": TASK_ARN}]}).to_string()));
    let replay = StaticReplayClient::new(events);
    let runner =
        EcsTaskRunner::new(&sdk(&replay).await, config()).unwrap_or_else(|e| panic!("{e}"));
    let mut p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "ARM_CONTAINER");
    p.kiln = Some(KilnSettings { spot: Some(true), ..KilnSettings::default() });
    assert!(runner.start(&description(&p, 3, true), "arm").await.is_ok());
    let calls = ecs_calls(&replay);
    assert_eq!(calls[4].1["launchType"], json!("FARGATE"));
    assert_eq!(calls[3].1["runtimePlatform"]["cpuArchitecture"], json!("ARM64"));
}

#[tokio::test]
async fn a_started_task_is_found_again_by_its_token() {
    let replay =
        StaticReplayClient::new(vec![answer(200, &json!({"taskArns": [TASK_ARN]}).to_string())]);
    let runner =
        EcsTaskRunner::new(&sdk(&replay).await, config()).unwrap_or_else(|e| panic!("{e}"));
    let p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let handle = runner.start(&description(&p, 3, true), "again").await;
    assert_eq!(handle.ok(), Some(TaskHandle(TASK_ARN.into())));
    assert_eq!(ecs_calls(&replay).len(), 1, "nothing is written or run");
}

#[tokio::test]
async fn throttling_and_outages_are_retryable_kinds() {
    let replay = StaticReplayClient::new(vec![
        answer(400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
        answer(500, r#"{"__type":"ServerException","message":"Service unavailable"}"#),
        answer(400, r#"{"__type":"ClusterNotFoundException","message":"Cluster not found."}"#),
    ]);
    let runner =
        EcsTaskRunner::new(&sdk(&replay).await, config()).unwrap_or_else(|e| panic!("{e}"));
    let task = TaskHandle(TASK_ARN.into());
    let kinds = [
        runner.describe(&task).await.err().map(|e| e.kind),
        runner.describe(&task).await.err().map(|e| e.kind),
        runner.describe(&task).await.err().map(|e| e.kind),
        runner.describe(&task).await.err().map(|e| e.kind),
    ];
    assert_eq!(
        kinds,
        [
            Some(PortErrorKind::Throttled),
            Some(PortErrorKind::Unavailable),
            Some(PortErrorKind::Permanent),
            Some(PortErrorKind::Unavailable),
        ],
        "throttled, a 5xx, a missing cluster, and no answer at all"
    );

    let replay = StaticReplayClient::new(vec![
        answer(400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
        answer(400, r#"{"__type":"ParameterNotFound"}"#),
    ]);
    let secrets = AwsSecretStore::new(&sdk(&replay).await);
    assert_eq!(
        secrets.get_parameter("/p").await.err().map(|e| e.kind),
        Some(PortErrorKind::Throttled)
    );
    let missing = secrets.get_parameter("/p").await.err();
    assert_eq!(missing.as_ref().map(|e| e.kind), Some(PortErrorKind::NotFound));
    assert_eq!(missing.map(|e| e.operation), Some("get parameter /p".to_owned()));

    let slow_down =
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    let replay = StaticReplayClient::new(vec![answer(503, slow_down)]);
    let store = S3ObjectStore::new(&sdk(&replay).await);
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else { return };
    let e = store.get_file("b", "k", &dir.path().join("k")).await.err();
    assert_eq!(e.as_ref().map(|e| e.kind), Some(PortErrorKind::Throttled));
    let text = e.map(|e| kiln_core::error_chain(&e)).unwrap_or_default();
    assert!(text.contains("SlowDown") && text.contains("get object b/k"), "{text}");
}

#[tokio::test]
async fn a_failed_part_aborts_the_upload() {
    let initiated = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>big</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>";
    let denied = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
    let replay =
        StaticReplayClient::new(vec![answer(200, initiated), answer(403, denied), answer(204, "")]);
    let multipart = Multipart { threshold: 1, part_size: 5 << 20, concurrency: 1 };
    let store = S3ObjectStore::new(&sdk(&replay).await).with_multipart(multipart);
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else { return };
    let path = dir.path().join("big");
    assert!(std::fs::write(&path, vec![7u8; 6 << 20]).is_ok());
    let e = store.put_file("b", "big", &path, &PutOptions::default()).await.err();
    assert_eq!(e.map(|e| e.kind), Some(PortErrorKind::Permanent));
    let requests: Vec<(String, String)> =
        replay.actual_requests().map(|r| (r.method().to_owned(), r.uri().to_owned())).collect();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(requests[0].1.contains("uploads"), "{requests:?}");
    assert!(requests[1].1.contains("partNumber=1"), "{requests:?}");
    assert_eq!(requests[2].0, "DELETE");
    assert!(requests[2].1.contains("uploadId=up-1"), "{requests:?}");
}

#[tokio::test]
async fn a_token_no_task_will_read_is_deleted_again() {
    let mut events = until_run_task();
    events.insert(3, answer(200, ""));
    events.push(answer(
        400,
        r#"{"__type":"InvalidParameterException","message":"No Container Instances were found in your cluster."}"#,
    ));
    events.push(answer(204, ""));
    let replay = StaticReplayClient::new(events);
    let runner = EcsTaskRunner::new(&sdk(&replay).await, config())
        .unwrap_or_else(|e| panic!("{e}"))
        .with_source_credentials(std::sync::Arc::new(crate::ecs::App));
    let p = project("web", "ubuntu:24.04", "BUILD_GENERAL1_SMALL", "LINUX_CONTAINER");
    let e = runner.start(&crate::ecs::git_description(&p, 4), "refused").await.err();
    assert_eq!(e.map(|e| e.kind), Some(PortErrorKind::Permanent));
    let s3: Vec<(String, String)> = replay
        .actual_requests()
        .filter(|r| r.headers().get("x-amz-target").is_none())
        .map(|r| (r.method().to_owned(), r.uri().to_owned()))
        .collect();
    assert_eq!(s3.len(), 3, "{s3:?}");
    assert_eq!(s3[0].0, "PUT");
    assert!(s3[0].1.contains("/builds/web/4/description.json"), "{s3:?}");
    let token = s3[1].1.split('?').next().unwrap_or_default().to_owned();
    assert_eq!(s3[1].0, "PUT");
    assert!(token.contains("/builds/web/4/source-token-"), "{s3:?}");
    assert_eq!(s3[2].0, "DELETE");
    assert_eq!(s3[2].1.split('?').next(), Some(token.as_str()), "the token's own object");
    let run = ecs_calls(&replay).into_iter().find(|(op, _)| op == "RunTask").map(|(_, b)| b);
    let command = run.map(|b| b["overrides"]["containerOverrides"][0]["command"].clone());
    assert_eq!(command.as_ref().and_then(|c| c[2].as_str()), Some("--source-token"));
    assert!(!format!("{command:?}").contains("ghs_"), "the token itself is never in the command");
}
