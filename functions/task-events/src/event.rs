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
