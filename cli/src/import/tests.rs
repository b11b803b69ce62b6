//! `kiln import` against the SDK's replay client: what moto's CodeBuild does not show (pages
//! of ListProjects, batches of 100, `projectsNotFound`, webhooks, secondary sources and
//! artifacts, errors), and every field read back through kiln's catalog loader.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_codebuild::config::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use serde_json::{Value as Json, json};

use super::*;

fn answer(status: u16, body: &Json) -> ReplayEvent {
    let request = http::Request::builder().uri("https://example.com/").body(SdkBody::empty());
    let response = http::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(body.to_string()));
    match (request, response) {
        (Ok(req), Ok(res)) => ReplayEvent::new(req, res),
        _ => panic!("a replay event"),
    }
}

async fn client(replay: &StaticReplayClient) -> Client {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .http_client(replay.clone())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "replay"))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    Client::new(&sdk)
}

/// The CodeBuild calls the replay client saw: (operation, JSON body).
fn calls(replay: &StaticReplayClient) -> Vec<(String, Json)> {
    replay
        .actual_requests()
        .filter_map(|r| {
            let op = r.headers().get("x-amz-target")?.rsplit('.').next()?.to_owned();
            let body =
                r.body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Json::Null);
            Some((op, body))
        })
        .collect()
}

fn minimal(name: &str) -> Json {
    json!({
        "name": name,
        "arn": format!("arn:aws:codebuild:us-east-1:123456789012:project/{name}"),
        "source": {"type": "NO_SOURCE", "buildspec": "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n"},
        "environment": {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"},
        "artifacts": {"type": "NO_ARTIFACTS"},
        "timeoutInMinutes": 60
    })
}

#[tokio::test]
async fn every_page_and_batches_of_a_hundred() {
    let first: Vec<String> = (0..100).map(|i| format!("p{i:03}")).collect();
    let second: Vec<String> = (100..150).map(|i| format!("p{i:03}")).collect();
    let found = |names: &[String], skip: &str| -> Json {
        let projects: Vec<Json> = names.iter().filter(|n| *n != skip).map(|n| minimal(n)).collect();
        json!({"projects": projects, "projectsNotFound": if skip.is_empty() { json!([]) } else { json!([skip]) }})
    };
    let replay = StaticReplayClient::new(vec![
        answer(200, &json!({"projects": first, "nextToken": "page-2"})),
        answer(200, &json!({"projects": second})),
        answer(200, &found(&first, "p042")),
        answer(200, &found(&second, "")),
    ]);
    let client = client(&replay).await;
    let names = list_all(&client).await.unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    assert_eq!(names.len(), 150);
    let result = fetch(&client, &names).await.unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    assert_eq!(result.not_found, ["p042"]);
    assert_eq!(result.projects.len(), 149);
    assert_eq!(result.projects[0].name, "p000");
    assert_eq!(result.projects[148].name, "p149");
    let seen = calls(&replay);
    let ops: Vec<&str> = seen.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(ops, ["ListProjects", "ListProjects", "BatchGetProjects", "BatchGetProjects"]);
    assert_eq!(seen[0].1["sortBy"], json!("NAME"));
    assert_eq!(seen[0].1.get("nextToken"), None);
    assert_eq!(seen[1].1["nextToken"], json!("page-2"));
    assert_eq!(seen[2].1["names"].as_array().map(Vec::len), Some(100));
    assert_eq!(seen[3].1["names"].as_array().map(Vec::len), Some(50));
    let text = catalog_text(&result.projects);
    let catalog = kiln_core::project::load_catalog(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(catalog.projects.len(), 149);
}

#[tokio::test]
async fn names_asked_for_come_back_in_order_and_missing_ones_are_named() {
    let replay = StaticReplayClient::new(vec![answer(
        200,
        &json!({"projects": [minimal("web"), minimal("api")], "projectsNotFound": ["gone"]}),
    )]);
    let client = client(&replay).await;
    let names = unique(&["api".into(), "gone".into(), " web ".into(), "api".into(), String::new()]);
    assert_eq!(names, ["api", "gone", "web"]);
    let result = fetch(&client, &names).await.unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    let order: Vec<&str> = result.projects.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(order, ["api", "web"]);
    assert_eq!(result.not_found, ["gone"]);
}

#[tokio::test]
async fn denied_and_unreachable_are_clear_errors() {
    let replay = StaticReplayClient::new(vec![answer(
        400,
        &json!({"__type": "AccessDeniedException", "message": "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: codebuild:ListProjects"}),
    )]);
    let e =
        list_all(&client(&replay).await).await.err().map(|e| error_chain(&e)).unwrap_or_default();
    assert!(e.starts_with("list the CodeBuild projects: aws answered AccessDeniedException (http 400): User: arn:aws:iam::123456789012:user/dev is not authorized"), "{e}");
    let replay = StaticReplayClient::new(vec![answer(500, &json!({"__type": "InternalFailure"}))]);
    let e = fetch(&client(&replay).await, &["a".into(), "b".into()]).await.err();
    let e = e.map(|e| error_chain(&e)).unwrap_or_default();
    assert!(
        e.starts_with("read the CodeBuild projects a, b: aws answered InternalFailure (http 500)"),
        "{e}"
    );
    assert!(!e.contains("ServiceError") && !e.contains("raw:"), "no SDK debug dump: {e}");
}

/// A project using everything kiln reads, and more.
fn everything() -> Json {
    json!({
        "name": "web",
        "arn": "arn:aws:codebuild:us-east-1:123456789012:project/web",
        "description": "yes: the web app # not a comment",
        "source": {
            "type": "GITHUB",
            "location": "https://github.com/octo/web.git",
            "gitCloneDepth": 1,
            "gitSubmodulesConfig": {"fetchSubmodules": true},
            "buildspec": "version: 0.2\nenv:\n  variables:\n    MODE: \"on\"\nphases:\n  build:\n    commands:\n      - echo \"a: b\" # c\n      - |\n        multi\n        line\n",
            "reportBuildStatus": true,
            "buildStatusConfig": {"context": "ci/kiln: $CODEBUILD_PROJECT", "targetUrl": "https://ci.example.com/$CODEBUILD_BUILD_ID"},
            "insecureSsl": false,
            "auth": {"type": "OAUTH", "resource": "arn:aws:codeconnections:us-east-1:123456789012:connection/x"}
        },
        "secondarySources": [{"type": "GITHUB", "location": "https://github.com/octo/tools.git", "sourceIdentifier": "tools"}],
        "sourceVersion": "refs/heads/main",
        "secondarySourceVersions": [{"sourceIdentifier": "tools", "sourceVersion": "v1"}],
        "environment": {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_MEDIUM",
            "environmentVariables": [
                {"name": "PLAIN", "value": "no", "type": "PLAINTEXT"},
                {"name": "NUMBER", "value": "010"},
                {"name": "PARAM", "value": "/web/token", "type": "PARAMETER_STORE"},
                {"name": "DB", "value": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::", "type": "SECRETS_MANAGER"},
                {"name": "HOSTILE", "value": " lead, trail \n\"quoted\" \\ #x\ttab", "type": "PLAINTEXT"}
            ],
            "privilegedMode": true,
            "imagePullCredentialsType": "CODEBUILD",
            "registryCredential": {"credential": "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry", "credentialProvider": "SECRETS_MANAGER"}
        },
        "serviceRole": "arn:aws:iam::123456789012:role/service-role/web",
        "artifacts": {"type": "S3", "location": "web-artifacts", "path": "builds", "namespaceType": "BUILD_ID", "name": "web.zip", "packaging": "ZIP", "overrideArtifactName": true, "encryptionDisabled": false},
        "secondaryArtifacts": [{"type": "S3", "location": "web-reports", "artifactIdentifier": "reports", "name": "/", "packaging": "NONE", "namespaceType": "NONE"}],
        "cache": {"type": "LOCAL", "modes": ["LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"]},
        "timeoutInMinutes": 45,
        "queuedTimeoutInMinutes": 120,
        "encryptionKey": "arn:aws:kms:us-east-1:123456789012:alias/aws/s3",
        "tags": [{"key": "team", "value": "web"}],
        "created": 1_700_000_000.5,
        "lastModified": 1_700_000_100.0,
        "webhook": {
            "url": "https://codebuild.us-east-1.amazonaws.com/webhooks?t=abc",
            "payloadUrl": "https://codebuild.us-east-1.amazonaws.com/webhooks?t=abc",
            "secret": "whsec-never-in-a-catalog",
            "branchFilter": "",
            "filterGroups": [
                [{"type": "EVENT", "pattern": "PUSH"}, {"type": "HEAD_REF", "pattern": "^refs/heads/(main|release/.*)$"}],
                [{"type": "EVENT", "pattern": "PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED"}, {"type": "FILE_PATH", "pattern": "^docs/", "excludeMatchedPattern": true}]
            ],
            "buildType": "BUILD",
            "lastModifiedSecret": 1_700_000_000.0
        },
        "vpcConfig": {"vpcId": "vpc-1", "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]}
    })
}

#[tokio::test]
async fn every_field_kiln_reads_comes_back_through_the_catalog() {
    let replay = StaticReplayClient::new(vec![answer(200, &json!({"projects": [everything()]}))]);
    let result = fetch(&client(&replay).await, &["web".into()]).await;
    let result = result.unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    let text = catalog_text(&result.projects);
    assert!(
        !text.contains("whsec") && !text.contains("payloadUrl") && !text.contains("serviceRole"),
        "{text}"
    );
    assert!(!text.contains("codeconnections"), "source.auth is left out: {text}");
    assert!(text.contains("    source:\n      type: GITHUB\n"), "{text}");
    assert!(
        text.contains("      buildspec: |\n        version: 0.2\n"),
        "an inline buildspec is a block scalar: {text}"
    );
    assert_eq!(self_check(&text), Vec::<String>::new());
    let catalog = kiln_core::project::load_catalog(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(catalog.warnings.is_empty(), "{:?}", catalog.warnings);
    let p = &catalog.projects[0];
    let expected = everything();
    let source = p.source.as_ref().unwrap_or_else(|| panic!("source"));
    assert_eq!(source.buildspec.as_deref(), expected["source"]["buildspec"].as_str());
    assert_eq!(source.git_clone_depth, Some(1));
    assert_eq!(source.git_submodules_config.as_ref().map(|g| g.fetch_submodules), Some(true));
    assert_eq!(source.report_build_status, Some(true));
    let status = source.build_status_config.as_ref().unwrap_or_else(|| panic!("status config"));
    assert_eq!(status.context.as_deref(), Some("ci/kiln: $CODEBUILD_PROJECT"));
    assert_eq!(status.target_url.as_deref(), Some("https://ci.example.com/$CODEBUILD_BUILD_ID"));
    let env = p.environment.as_ref().unwrap_or_else(|| panic!("environment"));
    let vars: Vec<(String, String, Option<String>)> = env
        .environment_variables
        .iter()
        .map(|v| (v.name.clone(), v.value.clone(), v.variable_type.clone()))
        .collect();
    let wanted: Vec<(String, String, Option<String>)> =
        expected["environment"]["environmentVariables"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                let s = |k: &str| v[k].as_str().map(str::to_owned);
                (s("name").unwrap_or_default(), s("value").unwrap_or_default(), s("type"))
            })
            .collect();
    assert_eq!(vars, wanted, "every type, secret references kept as references");
    assert_eq!(env.privileged_mode, Some(true));
    assert_eq!(env.compute_type.as_deref(), Some("BUILD_GENERAL1_MEDIUM"));
    let artifacts = p.artifacts.as_ref().unwrap_or_else(|| panic!("artifacts"));
    assert_eq!(
        (
            artifacts.path.as_deref(),
            artifacts.namespace_type.as_deref(),
            artifacts.packaging.as_deref()
        ),
        (Some("builds"), Some("BUILD_ID"), Some("ZIP"))
    );
    assert_eq!(artifacts.override_artifact_name, Some(true));
    assert_eq!(p.secondary_artifacts[0].artifact_identifier.as_deref(), Some("reports"));
    assert_eq!(p.secondary_artifacts[0].name.as_deref(), Some("/"));
    let cache = p.cache.as_ref().unwrap_or_else(|| panic!("cache"));
    assert_eq!(cache.modes, ["LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"]);
    assert_eq!(p.timeout_in_minutes, Some(45));
    let hook = p.webhook.as_ref().unwrap_or_else(|| panic!("webhook"));
    assert_eq!(hook.branch_filter, None, "an empty branchFilter is left out");
    assert_eq!(hook.build_type.as_deref(), Some("BUILD"));
    let groups: Vec<Vec<(String, String, Option<bool>)>> = hook
        .filter_groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|f| (f.filter_type.clone(), f.pattern.clone(), f.exclude_matched_pattern))
                .collect()
        })
        .collect();
    assert_eq!(
        groups,
        [
            vec![
                ("EVENT".into(), "PUSH".into(), None),
                ("HEAD_REF".into(), "^refs/heads/(main|release/.*)$".into(), None)
            ],
            vec![
                ("EVENT".into(), "PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED".into(), None),
                ("FILE_PATH".into(), "^docs/".into(), Some(true))
            ],
        ]
    );
    let json = kiln_core::yaml::parse(&text)
        .ok()
        .and_then(|d| d.root)
        .map(|r| r.to_json())
        .unwrap_or_default();
    let project = &json["projects"][0];
    assert_eq!(project["description"], expected["description"]);
    assert_eq!(project["secondarySources"][0]["sourceIdentifier"], json!("tools"));
    assert_eq!(project["secondarySourceVersions"], expected["secondarySourceVersions"]);
    assert_eq!(project["queuedTimeoutInMinutes"], json!(120));
    assert_eq!(
        project["environment"]["registryCredential"],
        expected["environment"]["registryCredential"]
    );
    let warnings = &result.projects[0].warnings;
    for field in [
        "environment.privilegedMode",
        "secondarySources",
        "cache.type",
        "environment.registryCredential",
        "vpcConfig",
        "queuedTimeoutInMinutes",
    ] {
        assert!(
            warnings.iter().any(|w| w.starts_with(&format!("{field}: "))),
            "{field} in {warnings:#?}"
        );
    }
}

#[test]
fn out_of_range_timeouts_are_left_out_with_a_warning() {
    let mut project = minimal("app");
    project["timeoutInMinutes"] = json!(0);
    project["queuedTimeoutInMinutes"] = json!(0);
    let parsed: aws_sdk_codebuild::types::Project = {
        let replay = StaticReplayClient::new(vec![answer(200, &json!({"projects": [project]}))]);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        let runtime = runtime.unwrap_or_else(|e| panic!("{e}"));
        let answer = runtime.block_on(async {
            client(&replay).await.batch_get_projects().names("app").send().await
        });
        answer
            .ok()
            .and_then(|a| a.projects().first().cloned())
            .unwrap_or_else(|| panic!("a project"))
    };
    let imported = convert::import(&parsed);
    let text = catalog_text(std::slice::from_ref(&imported));
    assert!(!text.contains("timeoutInMinutes"), "{text}");
    assert_eq!(imported.warnings.len(), 1, "{:?}", imported.warnings);
    assert!(
        imported.warnings[0]
            .starts_with("timeoutInMinutes: 0 is outside CodeBuild's 5–2160 minutes")
    );
    assert!(kiln_core::project::load_catalog(&text).is_ok());
}
