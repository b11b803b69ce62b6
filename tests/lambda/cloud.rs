//! An installation of kiln in the emulator: moto's server for AWS (a state bucket, a cluster
//! with a network, the build log group, the webhook and GitHub secrets, the catalog in S3), a
//! fake GitHub on the wire, a repository served over git's smart HTTP, and the functions'
//! environment (DESIGN §4's variables pointing at all of it).

use std::path::PathBuf;

use aws_config::SdkConfig;
use aws_sdk_ecs::types::Task;
use base64::Engine;
use kiln_fake_github::FakeGitHub;
use kiln_tests::GitRepo;
use kiln_tests::git_http::GitHttp;
use kiln_tests::lambda::Function;
use kiln_tests::moto as aws;
use secrecy::SecretString;

/// The webhook secret of every installation (the one `events/webhook/*.json` are signed with).
pub const SECRET: &str = "it's a secret to everybody";
/// The GitHub token kiln posts statuses with.
pub const TOKEN: &str = "ghp_kilnE2eToken0123456789abcdefABCDEF";
/// The region.
pub const REGION: &str = aws::REGION;
/// The image every project builds on (mapped to a pullable one by the runner).
pub const IMAGE: &str = "aws/codebuild/standard:7.0";
/// The untrusted task role.
pub const UNTRUSTED_ROLE: &str = "arn:aws:iam::123456789012:role/kiln-untrusted";

/// One installation; see the module docs.
pub struct Cloud {
    /// Runs the SDK calls and the fake GitHub.
    pub rt: tokio::runtime::Runtime,
    /// The emulator.
    pub sdk: SdkConfig,
    /// GitHub.
    pub github: FakeGitHub,
    /// Scratch space.
    pub dir: tempfile::TempDir,
    /// Serves the repository.
    pub git: GitHttp,
    /// `octo/repo`.
    pub repo: GitRepo,
    /// Its first commit.
    pub sha: String,
    /// `KILN_STATE_BUCKET`.
    pub bucket: String,
    /// `KILN_CLUSTER`.
    pub cluster: String,
    /// The emulator's URL.
    pub url: String,
    /// The variables every function gets.
    pub env: Vec<(String, String)>,
}

fn unique(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{}-{n}", aws::unique(prefix))
}

impl Cloud {
    /// An installation whose repository's first commit holds `buildspec.yml`, with one project
    /// `app` building on `events` (CodeBuild's event names) with `extra` YAML lines; `None`
    /// (the test skips) without an emulator.
    pub fn new(buildspec: &str, events: &str, extra: &str) -> Option<Self> {
        let url = kiln_tests::moto::moto_url()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sdk = rt.block_on(aws::sdk(&url));
        let github = rt.block_on(FakeGitHub::start());
        github.add_token(TOKEN);
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = GitRepo::new(dir.path(), "octo/repo");
        let sha = repo.commit(&[("buildspec.yml", buildspec)], "first commit");
        github.add_commit("octo/repo", &sha, "first commit");
        github.add_file("octo/repo", &sha, "buildspec.yml", buildspec.as_bytes());
        let git = GitHttp::start(&repo.root());
        let bucket = unique("kiln-state").to_ascii_lowercase();
        let cluster = unique("kiln");
        let (subnet, group) = aws::network(&url);
        let (webhook_secret, github_secret) = rt.block_on(async {
            let s3 = kiln_aws::s3_client(&sdk);
            s3.create_bucket().bucket(&bucket).send().await.expect("create the state bucket");
            let ecs = aws_sdk_ecs::Client::new(&sdk);
            ecs.create_cluster().cluster_name(&cluster).send().await.expect("create the cluster");
            let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
            let _ = logs.create_log_group().log_group_name("/kiln/builds").send().await;
            let sm = aws_sdk_secretsmanager::Client::new(&sdk);
            let secret = |name: String, value: String| {
                let sm = sm.clone();
                async move {
                    let made = sm.create_secret().name(name).secret_string(value).send().await;
                    made.expect("create a secret").arn().unwrap_or_default().to_owned()
                }
            };
            let webhook = secret(unique("kiln/webhook"), SECRET.to_owned()).await;
            let github = secret(unique("kiln/github"), format!("{{\"token\": \"{TOKEN}\"}}")).await;
            (webhook, github)
        });
        let env: Vec<(String, String)> = [
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", aws::SECRET_KEY),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("KILN_STATE_BUCKET", bucket.as_str()),
            ("KILN_CATALOG", &format!("s3://{bucket}/catalog/projects.yml")),
            ("KILN_CLUSTER", cluster.as_str()),
            ("KILN_SUBNETS", subnet.as_str()),
            ("KILN_SECURITY_GROUPS", group.as_str()),
            ("KILN_ASSIGN_PUBLIC_IP", "ENABLED"),
            ("KILN_EXECUTION_ROLE_ARN", "arn:aws:iam::123456789012:role/kiln-execution"),
            ("KILN_TASK_ROLE_ARN", "arn:aws:iam::123456789012:role/kiln-build"),
            ("KILN_UNTRUSTED_TASK_ROLE_ARN", UNTRUSTED_ROLE),
            ("KILN_LOG_GROUP", "/kiln/builds"),
            ("KILN_WEBHOOK_SECRET_ARN", webhook_secret.as_str()),
            ("KILN_GITHUB_SECRET_ARN", github_secret.as_str()),
            ("KILN_GITHUB_API_URL", &github.api_url()),
            ("KILN_PAGES_URL", "https://pages.kiln.test"),
            ("RUST_LOG", "info"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let cloud = Self { rt, sdk, github, dir, git, repo, sha, bucket, cluster, url, env };
        cloud.put_catalog(&format!(
            "- name: app\n  source: {{type: GITHUB, location: '{}'}}\n  environment: {{type: LINUX_CONTAINER, image: '{IMAGE}', computeType: BUILD_GENERAL1_SMALL}}\n  artifacts: {{type: NO_ARTIFACTS}}\n  webhook:\n    filterGroups:\n      - - {{type: EVENT, pattern: '{events}'}}\n{extra}",
            cloud.git.url("octo/repo")
        ));
        Some(cloud)
    }

    /// Writes the catalog object.
    pub fn put_catalog(&self, yaml: &str) {
        self.put("catalog/projects.yml", yaml.as_bytes().to_vec());
    }

    /// Starts function binary `name` with the installation's environment.
    pub fn function(&self, name: &str) -> Function {
        self.function_with(name, &[])
    }

    /// Starts function binary `name` with the installation's environment, `changed` replacing
    /// some of its variables.
    pub fn function_with(&self, name: &str, changed: &[(&str, &str)]) -> Function {
        let mut env = self.env.clone();
        for (k, v) in changed {
            env.retain(|(name, _)| name != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        Function::start(name, &kiln_tests::workspace_binary(name), &env)
    }

    /// Creates secret `name` holding `value` in Secrets Manager.
    pub fn create_secret(&self, name: &str, value: &str) {
        let sm = aws_sdk_secretsmanager::Client::new(&self.sdk);
        self.rt
            .block_on(sm.create_secret().name(name).secret_string(value).send())
            .expect("create a secret");
    }

    /// Puts `bytes` at `key` of the state bucket.
    pub fn put(&self, key: &str, bytes: Vec<u8>) {
        let s3 = kiln_aws::s3_client(&self.sdk);
        let put = s3.put_object().bucket(&self.bucket).key(key).body(bytes.into()).send();
        self.rt.block_on(put).unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    }

    /// The object at `key` of the state bucket, if there is one.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let s3 = kiln_aws::s3_client(&self.sdk);
        self.rt.block_on(async {
            let out = s3.get_object().bucket(&self.bucket).key(key).send().await.ok()?;
            Some(out.body.collect().await.ok()?.into_bytes().to_vec())
        })
    }

    /// Every task of the cluster, running or stopped.
    pub fn tasks(&self) -> Vec<Task> {
        let ecs = aws_sdk_ecs::Client::new(&self.sdk);
        self.rt.block_on(async {
            let mut arns = Vec::new();
            for status in [
                aws_sdk_ecs::types::DesiredStatus::Running,
                aws_sdk_ecs::types::DesiredStatus::Stopped,
            ] {
                let listed =
                    ecs.list_tasks().cluster(&self.cluster).desired_status(status).send().await;
                arns.extend(listed.expect("list tasks").task_arns().iter().cloned());
            }
            if arns.is_empty() {
                return Vec::new();
            }
            let described = ecs
                .describe_tasks()
                .cluster(&self.cluster)
                .set_tasks(Some(arns))
                .send()
                .await
                .expect("describe tasks");
            described.tasks().to_vec()
        })
    }

    /// The image of `task`'s build container (from its task definition).
    pub fn build_image(&self, task: &Task) -> String {
        let ecs = aws_sdk_ecs::Client::new(&self.sdk);
        let arn = task.task_definition_arn().unwrap_or_default().to_owned();
        self.rt.block_on(async {
            let d =
                ecs.describe_task_definition().task_definition(arn).send().await.expect("describe");
            d.task_definition()
                .and_then(|t| t.container_definitions().iter().find(|c| c.name() == Some("build")))
                .and_then(|c| c.image())
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// The states GitHub got for `sha`, in order.
    pub fn states(&self, sha: &str) -> Vec<String> {
        self.github.statuses().into_iter().filter(|s| s.sha == sha).map(|s| s.state).collect()
    }

    /// A push of `sha` to `main`.
    pub fn push(&self, sha: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "ref": "refs/heads/main",
            "before": "0000000000000000000000000000000000000000",
            "after": sha,
            "created": true,
            "repository": {"full_name": "octo/repo", "clone_url": self.git.url("octo/repo")},
            "sender": {"id": 583231, "login": "octocat"},
            "head_commit": {"id": sha, "message": "first commit"},
            "commits": [{"added": ["buildspec.yml"], "modified": [], "removed": []}],
        }))
        .expect("json")
    }

    /// A scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A Function URL request (payload format 2.0) delivering `body` as `event`, signed with
/// `signature` (none when empty), the body base64-encoded when `base64` says so: the shape of
/// `events/webhook/push.json`.
pub fn delivery(
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: &str,
    base64: bool,
) -> serde_json::Value {
    let mut request = crate::samples::load("webhook/push.json");
    let headers = request["headers"].as_object_mut().expect("headers");
    headers.insert("x-github-event".into(), event.into());
    headers.insert("x-github-delivery".into(), delivery.into());
    headers.insert("content-length".into(), body.len().to_string().into());
    if signature.is_empty() {
        headers.remove("x-hub-signature-256");
    } else {
        headers.insert("x-hub-signature-256".into(), signature.into());
    }
    request["isBase64Encoded"] = base64.into();
    request["body"] = if base64 {
        base64::engine::general_purpose::STANDARD.encode(body).into()
    } else {
        String::from_utf8_lossy(body).into_owned().into()
    };
    request
}

/// `body` signed with [`SECRET`].
pub fn sign(body: &[u8]) -> String {
    kiln_core::webhook::sign(body, &SecretString::from(SECRET.to_owned()))
}

/// A Function URL request `GET path?query`, the shape of `events/pages/build-page.json`.
pub fn get(path: &str, query: &str) -> serde_json::Value {
    let mut request = crate::samples::load("pages/build-page.json");
    request["rawPath"] = path.into();
    request["rawQueryString"] = query.into();
    request["requestContext"]["http"]["path"] = path.into();
    request
}
