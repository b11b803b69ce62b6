//! What ECS says of a task, as a [`TaskState`]; and the client token and `startedBy` of a
//! start.
//!
//! | `lastStatus` | state |
//! |---|---|
//! | `PROVISIONING`, `PENDING`, `ACTIVATING` | `Pending` |
//! | `RUNNING`, `DEACTIVATING`, `STOPPING`, `DEPROVISIONING` | `Running` (the build container may have exited; its exit code is final only once the task is `STOPPED`) |
//! | `STOPPED`, `DELETED` | `Stopped`, with `stopCode`, the build container's exit code, and the reasons of the task, the build container and a failed init container |

use aws_sdk_ecs::types::Task;
use kiln_core::ports::{TaskState, TaskStop};
use sha2::{Digest, Sha256};

use super::{BUILD_CONTAINER, INIT_CONTAINER};

/// The state of `task` (the table in the module docs).
pub fn task_state(task: &Task) -> TaskState {
    match task.last_status().unwrap_or("PROVISIONING") {
        "PROVISIONING" | "PENDING" | "ACTIVATING" => TaskState::Pending,
        "STOPPED" | "DELETED" => TaskState::Stopped(task_stop(task)),
        _ => TaskState::Running,
    }
}

fn task_stop(task: &Task) -> TaskStop {
    let container = |name: &str| task.containers().iter().find(|c| c.name() == Some(name));
    let build = container(BUILD_CONTAINER);
    let init = container(INIT_CONTAINER);
    let mut reasons: Vec<String> = Vec::new();
    if let Some(reason) = task.stopped_reason().filter(|r| !r.is_empty()) {
        reasons.push(reason.to_owned());
    }
    if let Some(reason) = build.and_then(|c| c.reason()).filter(|r| !r.is_empty()) {
        reasons.push(format!("{BUILD_CONTAINER}: {reason}"));
    }
    if let Some(init) = init {
        let failed = init.exit_code().is_some_and(|code| code != 0);
        match (init.exit_code(), init.reason().filter(|r| !r.is_empty())) {
            (Some(code), reason) if failed => reasons.push(match reason {
                Some(reason) => format!("{INIT_CONTAINER} exited {code}: {reason}"),
                None => format!(
                    "{INIT_CONTAINER} exited {code} (it copies the agent from the state bucket)"
                ),
            }),
            (None, Some(reason)) => reasons.push(format!("{INIT_CONTAINER}: {reason}")),
            _ => {}
        }
    }
    TaskStop {
        exit_code: build.and_then(|c| c.exit_code()),
        stop_code: task.stop_code().map(|c| c.as_str().to_owned()),
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
    }
}

/// RunTask's `clientToken` for a start's token: the token itself when RunTask accepts it (at
/// most 64 characters, each printable ASCII), else the hex SHA-256 of it (64 characters).
pub fn client_token(token: &str) -> String {
    if !token.is_empty() && token.len() <= 64 && token.bytes().all(|b| (33..=126).contains(&b)) {
        token.to_owned()
    } else {
        hex::encode(Sha256::digest(token.as_bytes()))
    }
}

/// RunTask's `startedBy` for a start's token, by which a repeated start finds the task of the
/// first: `kiln/<token>`, the token hashed as in [`client_token`] unless it is made of
/// letters, digits, `-` and `_` only.
pub fn started_by(token: &str) -> String {
    let plain = !token.is_empty()
        && token.len() <= 64
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        format!("kiln/{token}")
    } else {
        format!("kiln/{}", hex::encode(Sha256::digest(token.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Container, TaskStopCode};

    fn task(status: &str, containers: Vec<Container>) -> Task {
        Task::builder().last_status(status).set_containers(Some(containers)).build()
    }

    #[test]
    fn statuses() {
        assert_eq!(task_state(&task("PROVISIONING", vec![])), TaskState::Pending);
        assert_eq!(task_state(&task("ACTIVATING", vec![])), TaskState::Pending);
        assert_eq!(task_state(&task("RUNNING", vec![])), TaskState::Running);
        assert_eq!(task_state(&task("DEPROVISIONING", vec![])), TaskState::Running);
    }

    #[test]
    fn a_stopped_task_says_how() {
        let t = Task::builder()
            .last_status("STOPPED")
            .stop_code(TaskStopCode::EssentialContainerExited)
            .stopped_reason("Essential container in task exited")
            .containers(Container::builder().name("init").exit_code(0).build())
            .containers(Container::builder().name("build").exit_code(1).build())
            .build();
        assert_eq!(
            task_state(&t),
            TaskState::Stopped(TaskStop {
                exit_code: Some(1),
                stop_code: Some("EssentialContainerExited".into()),
                reason: Some("Essential container in task exited".into()),
            })
        );
    }

    #[test]
    fn a_failed_init_is_named() {
        let t = Task::builder()
            .last_status("STOPPED")
            .stop_code(TaskStopCode::TaskFailedToStart)
            .containers(Container::builder().name("init").exit_code(1).build())
            .containers(
                Container::builder()
                    .name("build")
                    .reason("CannotStartContainerError: dependency init failed")
                    .build(),
            )
            .build();
        let TaskState::Stopped(stop) = task_state(&t) else { panic!("stopped") };
        assert_eq!(stop.exit_code, None);
        assert_eq!(stop.stop_code.as_deref(), Some("TaskFailedToStart"));
        let reason = stop.reason.unwrap_or_default();
        assert!(reason.contains("build: CannotStartContainerError"), "{reason}");
        assert!(reason.contains("init exited 1"), "{reason}");
    }

    #[test]
    fn tokens_fit_run_task() {
        let key = "a".repeat(64);
        assert_eq!(client_token(&key), key);
        assert_eq!(started_by(&key), format!("kiln/{key}"));
        let long = "x".repeat(65);
        assert_eq!(client_token(&long).len(), 64);
        assert_ne!(client_token(&long), client_token(&"x".repeat(66)));
        assert_eq!(client_token("with space").len(), 64);
        assert_eq!(client_token("delivery:web"), "delivery:web");
        assert_eq!(started_by("delivery:web").len(), 5 + 64);
    }
}
