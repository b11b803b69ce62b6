//! Playing ECS for a task kiln started in the emulator (moto records RunTask but runs nothing,
//! and emits no events): the task's build container run as Fargate would run it (the agent at
//! its entry point, with the command, overrides and environment ECS holds, in a container of
//! its own), the task marked stopped, and what AWS would send of it: the awslogs stream's
//! lines as a CloudWatch Logs subscription payload, and the `ECS Task State Change` event from
//! a sample of `events/task-events/` with this task's identity.

use aws_sdk_ecs::types::{KeyValuePair, Task, TaskDefinition};
use kiln_core::logs::{LogsEvent, LogsMessage, MessageType};

use crate::cloud::{Cloud, REGION};
use kiln_tests::moto as aws;

/// What the build container did.
#[derive(Debug)]
pub struct Played {
    /// The agent's exit code.
    pub exit_code: Option<i32>,
    /// Its stdout: the lines awslogs sends to CloudWatch Logs.
    pub lines: Vec<String>,
    /// Its stderr.
    pub stderr: String,
    /// The awslogs stream (`<prefix>/build/<task id>`).
    pub stream: String,
    /// The task's environment, as the container had it.
    pub env: Vec<(String, String)>,
}

impl Played {
    /// The log as one text.
    pub fn log(&self) -> String {
        self.lines.join("\n")
    }
}

fn definition(cloud: &Cloud, task: &Task) -> TaskDefinition {
    let ecs = aws_sdk_ecs::Client::new(&cloud.sdk);
    let arn = task.task_definition_arn().unwrap_or_default().to_owned();
    let described = cloud.rt.block_on(ecs.describe_task_definition().task_definition(&arn).send());
    let described = described.unwrap_or_else(|e| panic!("describe {arn}: {e:?}"));
    described.task_definition().cloned().unwrap_or_else(|| panic!("no definition {arn}"))
}

/// The build container's argv (entry point + command, RunTask's override first) and
/// environment (the definition's, then the override's).
pub fn build_container(cloud: &Cloud, task: &Task) -> (Vec<String>, Vec<(String, String)>, String) {
    let definition = definition(cloud, task);
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
    let prefix = container
        .log_configuration()
        .and_then(|l| l.options())
        .and_then(|o| o.get("awslogs-stream-prefix").cloned())
        .unwrap_or_else(|| panic!("the build container logs through awslogs"));
    let id = task.task_arn().unwrap_or_default().rsplit('/').next().unwrap_or_default();
    (argv, env, format!("{prefix}/build/{id}"))
}

/// Runs `task`'s build container against the emulator, then stops the task in the emulator as
/// ECS does when its essential container exits.
///
/// # Panics
/// When this machine cannot run a container ([`crate::container::available`]).
pub fn play(cloud: &Cloud, task: &Task) -> Played {
    let (argv, mut env, stream) = build_container(cloud, task);
    env.extend(
        [
            ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            ("HOSTNAME", "ip-10-0-1-7"),
            ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", aws::SECRET_KEY),
            ("AWS_ENDPOINT_URL", cloud.url.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let root = cloud.path(&format!("container-{}", stream.replace('/', "-")));
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("root: {e}"));
    let agent = kiln_tests::workspace_binary("kiln-agent");
    let out = crate::container::run(&root, &agent, &argv, &env);
    stop(cloud, task, "Essential container in task exited");
    Played {
        exit_code: out.status.code(),
        lines: String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stream,
        env,
    }
}

/// Stops `task` in the emulator (what ECS does once the task has ended).
pub fn stop(cloud: &Cloud, task: &Task, reason: &str) {
    let ecs = aws_sdk_ecs::Client::new(&cloud.sdk);
    let arn = task.task_arn().unwrap_or_default();
    let stopped = ecs.stop_task().cluster(&cloud.cluster).task(arn).reason(reason).send();
    cloud.rt.block_on(stopped).unwrap_or_else(|e| panic!("stop {arn}: {e:?}"));
}

/// The subscription payload CloudWatch Logs sends for `lines` of `stream`, the first at
/// `first_ms` and one millisecond apart.
pub fn log_payload(stream: &str, lines: &[String], first_ms: i64) -> serde_json::Value {
    let mut sample = crate::samples::logs("log-relay/build-lines.json");
    sample.log_stream = stream.to_owned();
    sample.log_events = lines
        .iter()
        .zip(0_i64..)
        .map(|(line, n)| LogsEvent {
            id: format!("{:056}", first_ms * 1000 + n),
            timestamp: first_ms + n,
            message: line.clone(),
        })
        .collect();
    assert_eq!(sample.message_type, MessageType::DataMessage);
    serde_json::to_value(kiln_core::logs::cloudwatch::encode(&sample)).unwrap_or_default()
}

/// A control message, as CloudWatch Logs sends when a subscription is created.
pub fn control_payload() -> serde_json::Value {
    let message: LogsMessage = crate::samples::logs("log-relay/control.json");
    assert_eq!(message.message_type, MessageType::ControlMessage);
    crate::samples::load("log-relay/control.json")
}

/// The `ECS Task State Change` of `sample` (under `events/`) for `task`: its ARN, cluster,
/// `startedBy`, group, definition and overrides; the build container's exit code set when
/// given.
pub fn state_change(
    cloud: &Cloud,
    sample: &str,
    task: &Task,
    exit_code: Option<i32>,
) -> serde_json::Value {
    let mut event = crate::samples::load(sample);
    let arn = task.task_arn().unwrap_or_default().to_owned();
    let account = "123456789012";
    let detail = &mut event["detail"];
    detail["taskArn"] = arn.clone().into();
    detail["clusterArn"] =
        format!("arn:aws:ecs:{REGION}:{account}:cluster/{}", cloud.cluster).into();
    detail["startedBy"] = task.started_by().unwrap_or_default().into();
    detail["group"] = task.group().unwrap_or_default().into();
    detail["taskDefinitionArn"] = task.task_definition_arn().unwrap_or_default().into();
    let overrides: Vec<serde_json::Value> = task
        .overrides()
        .map(|o| o.container_overrides().to_vec())
        .unwrap_or_default()
        .iter()
        .map(|c| serde_json::json!({"name": c.name(), "command": c.command()}))
        .collect();
    detail["overrides"]["containerOverrides"] = overrides.into();
    if let Some(role) = task.overrides().and_then(|o| o.task_role_arn()) {
        detail["overrides"]["taskRoleArn"] = role.into();
    }
    for container in detail["containers"].as_array_mut().into_iter().flatten() {
        container["taskArn"] = arn.clone().into();
        if container["name"] == "build"
            && let Some(code) = exit_code
        {
            container["exitCode"] = code.into();
        }
    }
    event["resources"] = serde_json::json!([arn]);
    event
}
