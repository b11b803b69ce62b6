//! The detail of EventBridge's `ECS Task State Change` event, as ECS sends it (the fields kiln
//! reads; the others are ignored), and what it says of a kiln build: which build the task runs
//! and how it stopped.
//!
//! A kiln task names its build twice: `startedBy` is `kiln/<idempotency key>` (what
//! `EcsTaskRunner` starts it with, so a repeated start finds it), and the build container's
//! command override is `--description s3://<bucket>/builds/<project>/<n>/description.json`.

use kiln_aws::ecs::{BUILD_CONTAINER, INIT_CONTAINER};
use kiln_core::build::{BuildRef, layout};
use kiln_core::ports::TaskStop;
use serde::{Deserialize, Serialize};

/// `detail-type` of the events this function takes.
pub const DETAIL_TYPE: &str = "ECS Task State Change";

/// `detail` of an ECS task state change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsTaskStateChange {
    /// The task.
    pub task_arn: String,
    /// Its cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// `PROVISIONING` … `RUNNING` … `STOPPED`.
    #[serde(default)]
    pub last_status: String,
    /// What ECS is taking it to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_status: Option<String>,
    /// Who started it (`kiln/<key>` for kiln's builds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// `family:<task definition family>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `EssentialContainerExited`, `TaskFailedToStart`, `UserInitiated`, `SpotInterruption`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
    /// ECS's reason in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_reason: Option<String>,
    /// The containers.
    #[serde(default)]
    pub containers: Vec<EcsContainer>,
    /// RunTask's overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<EcsOverrides>,
    /// The event's version of the task (grows with each change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// One container of the task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsContainer {
    /// Its name in the task definition.
    #[serde(default)]
    pub name: String,
    /// Its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    /// Its exit code, once it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why it stopped (`CannotPullContainerError: …`, `OutOfMemoryError: …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// RunTask's overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsOverrides {
    /// Per container.
    #[serde(default)]
    pub container_overrides: Vec<EcsContainerOverride>,
}

/// One container's overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsContainerOverride {
    /// The container.
    #[serde(default)]
    pub name: String,
    /// Its command.
    #[serde(default)]
    pub command: Vec<String>,
}

impl EcsTaskStateChange {
    /// Whether the task has stopped (the only change kiln acts on).
    pub fn is_stopped(&self) -> bool {
        self.last_status == "STOPPED"
    }

    /// Whether the task runs on `cluster` (a name or an ARN).
    pub fn is_on(&self, cluster: &str) -> bool {
        let Some(arn) = self.cluster_arn.as_deref() else { return true };
        arn == cluster || arn.rsplit_once(":cluster/").is_some_and(|(_, name)| name == cluster)
    }

    /// The idempotency key of the build the task was started for (`startedBy` `kiln/<key>`).
    pub fn build_key(&self) -> Option<&str> {
        let key = self.started_by.as_deref()?.strip_prefix("kiln/")?;
        (!key.is_empty()
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then_some(key)
    }

    /// The build the build container's `--description` names.
    pub fn described_build(&self) -> Option<BuildRef> {
        let command = &self
            .overrides
            .as_ref()?
            .container_overrides
            .iter()
            .find(|o| o.name == BUILD_CONTAINER)?
            .command;
        let at = command.iter().position(|a| a == "--description")?;
        let url = command.get(at + 1)?.strip_prefix("s3://")?;
        let (_bucket, key) = url.split_once('/')?;
        let build = key.strip_prefix("builds/")?.strip_suffix("/description.json")?;
        let found = layout::parse_build_ref(build)?;
        (layout::description_key(&found) == key).then_some(found)
    }

    /// How the task stopped: the build container's exit code, the stop code, and the reasons of
    /// the task, the build container and a failed init container (as `EcsTaskRunner`'s
    /// `describe` reads them from `DescribeTasks`).
    pub fn task_stop(&self) -> TaskStop {
        let container = |name: &str| self.containers.iter().find(|c| c.name == name);
        let (build, init) = (container(BUILD_CONTAINER), container(INIT_CONTAINER));
        let mut reasons: Vec<String> = Vec::new();
        if let Some(reason) = self.stopped_reason.as_deref().filter(|r| !r.is_empty()) {
            reasons.push(reason.to_owned());
        }
        if let Some(reason) = build.and_then(|c| c.reason.as_deref()).filter(|r| !r.is_empty()) {
            reasons.push(format!("{BUILD_CONTAINER}: {reason}"));
        }
        if let Some(init) = init {
            let reason = init.reason.as_deref().filter(|r| !r.is_empty());
            match (init.exit_code, reason) {
                (Some(code), Some(reason)) if code != 0 => {
                    reasons.push(format!("{INIT_CONTAINER} exited {code}: {reason}"));
                }
                (Some(code), None) if code != 0 => reasons.push(format!(
                    "{INIT_CONTAINER} exited {code} (it copies the agent from the state bucket)"
                )),
                (None, Some(reason)) => reasons.push(format!("{INIT_CONTAINER}: {reason}")),
                _ => {}
            }
        }
        TaskStop {
            exit_code: build.and_then(|c| c.exit_code),
            stop_code: self.stop_code.clone(),
            reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::eventbridge::EventBridgeEvent;

    fn sample(name: &str) -> EventBridgeEvent<EcsTaskStateChange> {
        let path = format!("{}/../../events/task-events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let event: EventBridgeEvent<EcsTaskStateChange> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = serde_json::to_string(&event).expect("serialize");
        let reparsed: EventBridgeEvent<EcsTaskStateChange> =
            serde_json::from_str(&again).expect("reparse");
        assert_eq!(reparsed, event, "{name} round-trips");
        event
    }

    #[test]
    fn a_kiln_task_names_its_build_and_how_it_stopped() {
        let e = sample("stopped.json");
        assert_eq!(e.detail_type, DETAIL_TYPE);
        let task = &e.detail;
        assert!(task.is_stopped());
        assert!(task.is_on("kiln"));
        assert!(task.is_on("arn:aws:ecs:us-east-1:123456789012:cluster/kiln"));
        assert!(!task.is_on("other"));
        assert_eq!(
            task.build_key(),
            Some("4e0f3c1a9b7d2e8f6a5c4b3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f")
        );
        assert_eq!(task.described_build(), Some(BuildRef::new("app", 1)));
        assert_eq!(
            task.task_stop(),
            TaskStop {
                exit_code: Some(0),
                stop_code: Some("EssentialContainerExited".into()),
                reason: Some("Essential container in task exited".into()),
            }
        );
        assert_eq!(sample("stopped-failed.json").detail.task_stop().exit_code, Some(1));
    }

    #[test]
    fn fargate_failures_read_as_words() {
        let words = |name: &str| sample(name).detail.task_stop().in_words();
        let pull = words("stopped-cannot-pull.json");
        assert!(
            pull.starts_with("the build image could not be pulled: CannotPullContainerError"),
            "{pull}"
        );
        assert!(words("stopped-out-of-memory.json").starts_with("the build ran out of memory"));
        assert!(words("stopped-spot-interruption.json").starts_with("Fargate Spot reclaimed"));
        assert!(
            words("stopped-resource-initialization.json")
                .starts_with("the build's task could not be set up")
        );
    }

    #[test]
    fn other_tasks_and_states_are_not_a_builds_end() {
        for name in ["running.json", "deprovisioning.json"] {
            let task = sample(name).detail;
            assert!(!task.is_stopped(), "{name}");
            assert_eq!(task.build_key(), None, "{name}");
            assert_eq!(task.described_build(), None, "{name}");
        }
    }
}
