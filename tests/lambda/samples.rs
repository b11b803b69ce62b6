//! The sample events under `events/`, which the end-to-end tests build their invocations from:
//! each parses as the type its function takes, and kiln's build state change has the shape of
//! CodeBuild's (`../shared/corpora/aws-events`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use kiln_core::build::{Build, BuildSummary};
use kiln_core::logs::{LogsEnvelope, LogsMessage, MessageType};
use kiln_core::notify::{BuildStateChange, DETAIL_TYPE, SOURCE};

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// The sample `events/<name>` as JSON.
pub fn load(name: &str) -> serde_json::Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The CloudWatch Logs subscription sample `events/<name>`, decoded.
pub fn logs(name: &str) -> LogsMessage {
    let envelope: LogsEnvelope =
        serde_json::from_value(load(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    envelope.decode().unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn samples(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(events_dir().join(dir))
        .unwrap_or_else(|e| panic!("events/{dir}: {e}"))
        .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
        .filter(|n| n.ends_with(".json"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "events/{dir} has samples");
    names
}

#[test]
fn every_sample_is_an_event_of_the_type_its_function_takes() {
    let mut dirs: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/")
        .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
        .collect();
    dirs.sort();
    assert_eq!(dirs, ["kiln", "log-relay", "pages", "sweeper", "task-events", "webhook"]);
    for name in samples("webhook").into_iter().chain(samples("pages")) {
        let request: ApiGatewayV2httpRequest =
            serde_json::from_value(load(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(request.version.as_deref(), Some("2.0"), "{name}: payload format 2.0");
        assert!(request.raw_path.is_some(), "{name}");
        let method = request.request_context.http.method.as_str().to_owned();
        if name.starts_with("webhook/") {
            assert_eq!(method, "POST", "{name}");
            assert!(request.headers.contains_key("x-github-delivery"), "{name}");
            assert!(request.body.is_some(), "{name}");
        } else {
            assert_eq!(method, "GET", "{name}");
        }
    }
    for name in samples("task-events") {
        let event: EventBridgeEvent<serde_json::Value> =
            serde_json::from_value(load(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(event.source, "aws.ecs", "{name}");
        assert_eq!(event.detail_type, "ECS Task State Change", "{name}");
        assert_eq!(event.detail["launchType"], "FARGATE", "{name}");
    }
    for name in samples("sweeper") {
        let event: EventBridgeEvent<serde_json::Value> =
            serde_json::from_value(load(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(event.source, "aws.events", "{name}");
        assert_eq!(event.detail_type, "Scheduled Event", "{name}");
    }
    for name in samples("log-relay") {
        let message = logs(&name);
        match message.message_type {
            MessageType::DataMessage => assert!(!message.log_events.is_empty(), "{name}"),
            MessageType::ControlMessage => assert!(message.log_stream.is_empty(), "{name}"),
        }
    }
    for name in samples("kiln") {
        let event: EventBridgeEvent<BuildStateChange> =
            serde_json::from_value(load(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(event.source, SOURCE, "{name}");
        assert_eq!(event.detail_type, DETAIL_TYPE, "{name}");
    }
}

/// The shape of a JSON value: the types of its leaves under their paths (array items share
/// the path `[]`; integers and floats are both numbers, as EventBridge's JSON has no types).
fn shape(value: &serde_json::Value) -> BTreeMap<String, &'static str> {
    fn walk(value: &serde_json::Value, path: String, out: &mut BTreeMap<String, &'static str>) {
        let kind = match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{path}.{k}"), out);
                }
                "object"
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, format!("{path}[]"), out);
                }
                "array"
            }
            serde_json::Value::String(_) => "string",
            serde_json::Value::Number(_) => "number",
            serde_json::Value::Bool(_) => "bool",
            serde_json::Value::Null => "null",
        };
        out.insert(path, kind);
    }
    let mut out = BTreeMap::new();
    walk(value, String::new(), &mut out);
    out
}

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_build_state_change_has_the_shape_of_codebuilds() {
    let Some(corpora) = kiln_tests::corpora() else { return };
    let path = corpora
        .join("aws-events/crate-aws_lambda_events-1.2.1__example-codebuild-state-change.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let codebuild: serde_json::Value = serde_json::from_str(&text).expect("corpus JSON");
    let kiln = load("kiln/build-state-change.json");
    assert_eq!(codebuild["detail-type"], "CodeBuild Build State Change");
    assert_eq!(kiln["detail-type"], DETAIL_TYPE);
    assert_eq!(kiln["source"], SOURCE);
    assert_eq!(shape(&kiln), shape(&codebuild), "the same fields, of the same types");

    let mut build: Build = fixture("build-record.v1.json");
    let summary: BuildSummary = fixture("build-summary.v1.json");
    build.state = kiln_core::build::BuildState::Succeeded;
    let emitted = serde_json::to_value(BuildStateChange::of(&build, Some(&summary))).expect("json");
    let mut emitted_shape = shape(&emitted);
    let mut sample_shape = shape(&kiln["detail"]);
    for optional in
        [".additional-information.artifact.md5sum", ".additional-information.artifact.sha256sum"]
    {
        emitted_shape.remove(optional);
        sample_shape.remove(optional);
    }
    let varying = [
        ".additional-information.environment.environment-variables[]",
        ".additional-information.phases[].phase-context[]",
    ];
    emitted_shape.retain(|k, _| !varying.iter().any(|v| k.starts_with(v)));
    sample_shape.retain(|k, _| !varying.iter().any(|v| k.starts_with(v)));
    assert_eq!(emitted_shape, sample_shape, "the sample is what the finalizer emits");
}
