//! kiln's five Lambda functions end to end with no Docker: moto's server for AWS, the fake
//! GitHub on the wire (every request checked against GitHub's OpenAPI description), each
//! function binary behind a Lambda Runtime API emulator, and the tasks kiln starts played by
//! running their agent with the task's command and environment against the emulator. The tests
//! send what AWS would: the Function URL requests, the CloudWatch Logs subscription payloads of
//! the task's awslogs stream, the `ECS Task State Change` events (moto emits none), and the
//! sweeper's schedule.

mod cloud;
#[path = "../task/container.rs"]
mod container;
mod samples;
mod task;

use kiln_fake_github::{Failure, Route};
use kiln_tests::lambda::{Function, Outcome};

use crate::cloud::{Cloud, IMAGE, SECRET, TOKEN, UNTRUSTED_ROLE, delivery, get, sign};

const OK: &str = "version: 0.2\nphases:\n  install:\n    commands:\n      - echo installing\n  build:\n    commands:\n      - echo \"built $CODEBUILD_RESOLVED_SOURCE_VERSION\"\n      - sleep 1\n      - echo kiln-e2e-marker\n";

/// The five functions of one installation.
struct Kiln {
    webhook: Function,
    task_events: Function,
    log_relay: Function,
    sweeper: Function,
    pages: Function,
}

impl Kiln {
    fn start(cloud: &Cloud) -> Self {
        Self {
            webhook: cloud.function("kiln-webhook"),
            task_events: cloud.function("kiln-task-events"),
            log_relay: cloud.function("kiln-log-relay"),
            sweeper: cloud.function("kiln-sweeper"),
            pages: cloud.function("kiln-pages"),
        }
    }

    /// Nothing secret in what any function printed.
    fn assert_no_secret_logged(&self) {
        for f in [&self.webhook, &self.task_events, &self.log_relay, &self.sweeper, &self.pages] {
            let out = f.output();
            for secret in [SECRET, TOKEN, kiln_tests::moto::SECRET_KEY] {
                assert!(!out.contains(secret), "{} logged a secret:\n{out}", f.name);
            }
        }
    }
}

/// Whether this machine can play a task (root, mount namespaces); `CI=true` insists.
fn can_play() -> bool {
    match container::available() {
        Ok(()) => true,
        Err(reason) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
            eprintln!("skipping: {reason}");
            false
        }
    }
}

/// The HTTP answer of a Function URL invocation: (status, body).
fn http(outcome: Outcome) -> (u16, String) {
    let answer = outcome.response();
    let status = answer["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(0);
    let body = answer["body"].as_str().unwrap_or_default().to_owned();
    let body = if answer["isBase64Encoded"] == true {
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &body)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        body
    };
    (status, body)
}

/// Delivers a signed push of the installation's commit as `id`.
fn push(cloud: &Cloud, kiln: &mut Kiln, id: &str) -> (u16, serde_json::Value) {
    let body = cloud.push(&cloud.sha);
    let (status, text) =
        http(kiln.webhook.invoke(&delivery("push", id, &body, &sign(&body), true)));
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

/// The GET request a link of the pages' base URL is (path and query).
fn request_of(link: &str) -> serde_json::Value {
    let rest = link.strip_prefix("https://pages.kiln.test").unwrap_or_else(|| panic!("{link}"));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    get(path, query)
}

#[test]
fn a_signed_push_runs_one_task_relays_its_log_and_ends_with_success_and_a_page() {
    let Some(cloud) = Cloud::new(OK, "PUSH", "") else { return };
    if !can_play() {
        return;
    }
    let mut kiln = Kiln::start(&cloud);
    let (status, reply) = push(&cloud, &mut kiln, "d-1");
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["builds"][0]["project"], "app", "{reply}");
    assert_eq!(reply["builds"][0]["number"], 1, "{reply}");
    let tasks = cloud.tasks();
    assert_eq!(tasks.len(), 1, "one task");
    let image = kiln_aws::pullable_image(IMAGE).expect("a curated image").image;
    assert_eq!(cloud.build_image(&tasks[0]), image, "the project's image");
    assert_eq!(cloud.states(&cloud.sha), ["pending"]);
    assert!(cloud.get("builds/app/1/description.json").is_some(), "the task's description");

    let (again, replayed) = push(&cloud, &mut kiln, "d-1");
    assert_eq!((again, &replayed), (202, &reply), "a redelivery answers as the first time");
    assert_eq!(cloud.tasks().len(), 1, "a redelivery starts no task");
    assert_eq!(cloud.states(&cloud.sha), ["pending"], "nor posts a status");

    let wrong = kiln.webhook.invoke(&samples::load("webhook/push-wrong-signature.json"));
    assert_eq!(http(wrong).0, 401);
    let ping = http(kiln.webhook.invoke(&samples::load("webhook/ping-base64.json")));
    assert_eq!(ping.0, 200, "{}", ping.1);
    assert_eq!(cloud.tasks().len(), 1);

    let played = task::play(&cloud, &tasks[0]);
    assert_eq!(played.exit_code, Some(0), "{}\n{}", played.log(), played.stderr);
    assert!(played.log().contains("kiln-e2e-marker"), "{}", played.log());
    let control = kiln.log_relay.invoke(&task::control_payload()).response();
    assert_eq!(control["outcome"], "ignored", "{control}");
    let other = kiln.log_relay.invoke(&samples::load("log-relay/sample.json")).response();
    assert_eq!(other["outcome"], "ignored", "a stream of no build: {other}");
    let build_starts = played
        .lines
        .iter()
        .position(|l| l.contains("Entering phase BUILD"))
        .unwrap_or_else(|| panic!("no BUILD phase: {}", played.log()));
    let (first, rest) = played.lines.split_at(build_starts + 1);
    let now = kiln_core::ports::Clock::now_ms(&kiln_core::ports::SystemClock);
    let relayed = kiln.log_relay.invoke(&task::log_payload(&played.stream, first, now)).response();
    assert_eq!(relayed["outcome"], "relayed", "{relayed}");
    assert_eq!(relayed["appended"], first.len(), "{relayed}");
    let progress = relayed["progress"].as_str().unwrap_or_default().to_owned();
    assert!(progress.contains("BUILD"), "the pending description names the phase: {relayed}");
    let pending = cloud.github.statuses();
    let last = pending.last().expect("statuses");
    assert_eq!(last.state, "pending");
    assert_eq!(last.description.as_deref(), Some(progress.as_str()));
    let second = task::log_payload(&played.stream, rest, now + 1000);
    let relayed = kiln.log_relay.invoke(&second).response();
    assert_eq!(relayed["appended"], rest.len(), "{relayed}");
    let again = kiln.log_relay.invoke(&second).response();
    assert_eq!(again["appended"], 0, "a batch delivered twice is appended once: {again}");
    let archive = String::from_utf8(cloud.get("builds/app/1/build.log").expect("the log archive"))
        .expect("utf-8");
    assert!(archive.contains("kiln-e2e-marker"), "{archive}");
    let marked = archive.lines().filter(|l| l.trim() == "kiln-e2e-marker").count();
    assert_eq!(marked, 1, "each line archived once: {archive}");

    let stopped = task::state_change(&cloud, "task-events/stopped.json", &tasks[0], Some(0));
    let running = task::state_change(&cloud, "task-events/running.json", &tasks[0], None);
    let ignored = kiln.task_events.invoke(&running).response();
    assert_eq!(ignored["outcome"], "ignored", "{ignored}");
    let done = kiln.task_events.invoke(&stopped).response();
    assert_eq!(done["outcome"], "finalized", "{done}");
    assert_eq!(done["state"], "SUCCEEDED", "{done}");
    let late = kiln.task_events.invoke(&stopped).response();
    assert_eq!(late, done, "a repeated event changes nothing");
    let states = cloud.states(&cloud.sha);
    assert_eq!(states.iter().filter(|s| *s != "pending").collect::<Vec<_>>(), ["success"]);
    assert_eq!(states.last().map(String::as_str), Some("success"));
    let posted = cloud.github.statuses();
    let link = posted.last().and_then(|s| s.target_url.clone()).expect("a target_url");
    assert!(link.starts_with("https://pages.kiln.test/builds/app/1?sig="), "{link}");
    assert!(link.len() > "https://pages.kiln.test/builds/app/1?sig=".len() + 30, "{link}");

    let (status, page) = http(kiln.pages.invoke(&request_of(&link)));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("kiln-e2e-marker"), "the page shows the log: {page}");
    assert!(page.contains("SUCCEEDED") || page.contains("Succeeded"), "{page}");
    let (status, _) = http(kiln.pages.invoke(&get("/builds/app/1", "")));
    assert_eq!(status, 404, "no page without the link's signature");
    let forged = format!("sig={}", "0".repeat(64));
    assert_eq!(http(kiln.pages.invoke(&get("/builds/app/1", &forged))).0, 404);
    let (status, log) = http(kiln.pages.invoke(&request_of(&link.replace("/1?", "/1/log?"))));
    assert_eq!(status, 200);
    assert!(log.contains("kiln-e2e-marker"), "{log}");
    let (status, badge) = http(kiln.pages.invoke(&samples::load("pages/badge.json")));
    assert_eq!(status, 404, "a project that is not public has no badge: {badge}");
    assert_eq!(http(kiln.pages.invoke(&samples::load("pages/build-page.json"))).0, 404);

    assert!(!played.log().contains(TOKEN), "the token never reaches the build");
    for (name, value) in &played.env {
        assert!(!value.contains(TOKEN) && !value.contains(SECRET), "{name} in the task");
    }
    kiln.assert_no_secret_logged();
    cloud.github.assert_no_violations();
}

#[test]
fn a_public_project_shows_its_pages_and_badge_to_anyone() {
    let Some(cloud) = Cloud::new(OK, "PUSH", "  kiln: {publicBuilds: true}\n") else { return };
    let mut kiln = Kiln::start(&cloud);
    let (status, _) = push(&cloud, &mut kiln, "d-public");
    assert_eq!(status, 202);
    let (status, page) = http(kiln.pages.invoke(&get("/builds/app/1", "")));
    assert_eq!(status, 200, "{page}");
    let (status, badge) = http(kiln.pages.invoke(&samples::load("pages/badge.json")));
    assert_eq!(status, 200, "{badge}");
    assert!(badge.contains("<svg"), "{badge}");
    let (status, list) = http(kiln.pages.invoke(&get("/", "")));
    assert_eq!(status, 200);
    assert!(list.contains("app"), "{list}");
    kiln.assert_no_secret_logged();
}

#[test]
fn a_failing_build_ends_with_failure() {
    let failing = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo about to fail\n      - exit 3\n";
    let Some(cloud) = Cloud::new(failing, "PUSH", "") else { return };
    if !can_play() {
        return;
    }
    let mut kiln = Kiln::start(&cloud);
    assert_eq!(push(&cloud, &mut kiln, "d-fail").0, 202);
    let tasks = cloud.tasks();
    assert_eq!(tasks.len(), 1);
    let played = task::play(&cloud, &tasks[0]);
    assert!(played.log().contains("about to fail"), "{}", played.log());
    let event =
        task::state_change(&cloud, "task-events/stopped-failed.json", &tasks[0], played.exit_code);
    let done = kiln.task_events.invoke(&event).response();
    assert_eq!(done["state"], "FAILED", "{done}");
    assert_eq!(cloud.states(&cloud.sha), ["pending", "failure"]);
    let description = cloud.github.statuses().last().and_then(|s| s.description.clone());
    assert!(description.unwrap_or_default().starts_with("Build failed for project app"));
    cloud.github.assert_no_violations();
}

#[test]
fn an_invalid_buildspec_fails_with_its_line_and_starts_no_task() {
    let invalid = "version: 0.2\nphases:\n  biuld:\n    commands:\n      - echo hi\n";
    let Some(cloud) = Cloud::new(invalid, "PUSH", "") else { return };
    let mut kiln = Kiln::start(&cloud);
    assert_eq!(push(&cloud, &mut kiln, "d-invalid").0, 202);
    assert!(cloud.tasks().is_empty(), "no task for an invalid buildspec");
    assert_eq!(cloud.states(&cloud.sha), ["failure"]);
    let description = cloud.github.statuses()[0].description.clone().unwrap_or_default();
    assert!(description.contains("buildspec.yml:3"), "{description}");
    cloud.github.assert_no_violations();
}

#[test]
fn an_image_that_cannot_be_pulled_ends_with_error() {
    let Some(cloud) = Cloud::new(OK, "PUSH", "") else { return };
    let mut kiln = Kiln::start(&cloud);
    assert_eq!(push(&cloud, &mut kiln, "d-pull").0, 202);
    let tasks = cloud.tasks();
    assert_eq!(tasks.len(), 1);
    task::stop(&cloud, &tasks[0], "Task failed to start");
    let event = task::state_change(&cloud, "task-events/stopped-cannot-pull.json", &tasks[0], None);
    let done = kiln.task_events.invoke(&event).response();
    assert_eq!(done["state"], "FAULT", "{done}");
    assert_eq!(cloud.states(&cloud.sha), ["pending", "error"]);
    let description = cloud.github.statuses()[1].description.clone().unwrap_or_default();
    assert!(description.contains("could not be pulled"), "{description}");
    assert!(cloud.get("builds/app/1/summary.json").is_none(), "no summary: the agent never ran");
}

#[test]
fn a_lost_stopped_event_is_made_up_for_by_the_sweeper() {
    let Some(cloud) = Cloud::new(OK, "PUSH", "") else { return };
    if !can_play() {
        return;
    }
    let mut kiln = Kiln::start(&cloud);
    assert_eq!(push(&cloud, &mut kiln, "d-lost").0, 202);
    let tasks = cloud.tasks();
    let schedule = samples::load("sweeper/schedule.json");
    let early = kiln.sweeper.invoke(&schedule).response();
    assert_eq!(early["finalized"], serde_json::json!([]), "a running build is left: {early}");
    let played = task::play(&cloud, &tasks[0]);
    assert_eq!(played.exit_code, Some(0), "{}", played.stderr);
    let swept = kiln.sweeper.invoke(&schedule).response();
    assert_eq!(swept["finalized"], serde_json::json!(["app #1"]), "{swept}");
    assert_eq!(cloud.states(&cloud.sha), ["pending", "success"]);
    let again = kiln.sweeper.invoke(&schedule).response();
    assert_eq!(again["finalized"], serde_json::json!([]), "{again}");
    assert_eq!(cloud.states(&cloud.sha).len(), 2, "nothing more is posted");
    kiln.assert_no_secret_logged();
}

#[test]
fn a_forks_pull_request_builds_with_the_untrusted_role_and_no_secrets() {
    let buildspec = "version: 0.2\nenv:\n  parameter-store:\n    TOKEN: /kiln/e2e/token\nphases:\n  build:\n    commands:\n      - echo \"token=[${TOKEN:-unset}]\"\n";
    let Some(cloud) = Cloud::new(buildspec, "PULL_REQUEST_CREATED", "") else { return };
    if !can_play() {
        return;
    }
    let ssm = aws_sdk_ssm::Client::new(&cloud.sdk);
    let put = ssm
        .put_parameter()
        .name("/kiln/e2e/token")
        .value("fork-must-not-see-this")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send();
    cloud.rt.block_on(put).expect("put the parameter");
    kiln_tests::git(&cloud.repo.work, &["push", "-q", "origin", "HEAD:refs/pull/8/head"]);
    let fork = serde_json::json!({
        "action": "opened",
        "number": 8,
        "pull_request": {
            "number": 8, "draft": false, "merged": false,
            "head": {"ref": "feat", "sha": cloud.sha, "repo": {"full_name": "someone/repo"}},
            "base": {"ref": "main", "sha": cloud.sha, "repo": {"full_name": "octo/repo"}},
        },
        "repository": {"full_name": "octo/repo", "clone_url": cloud.git.url("octo/repo")},
        "sender": {"id": 99, "login": "someone"},
    });
    let body = serde_json::to_vec(&fork).expect("json");
    let mut kiln = Kiln::start(&cloud);
    let (status, text) =
        http(kiln.webhook.invoke(&delivery("pull_request", "d-fork", &body, &sign(&body), false)));
    assert_eq!(status, 202, "{text}");
    let tasks = cloud.tasks();
    assert_eq!(tasks.len(), 1, "{text}");
    let role = tasks[0].overrides().and_then(|o| o.task_role_arn()).unwrap_or_default();
    assert_eq!(role, UNTRUSTED_ROLE, "a fork's build runs with the untrusted role");
    let played = task::play(&cloud, &tasks[0]);
    assert!(played.log().contains("token=[unset]"), "no secrets: {}", played.log());
    assert!(!played.log().contains("fork-must-not-see-this"));
    let event = task::state_change(&cloud, "task-events/stopped.json", &tasks[0], played.exit_code);
    let done = kiln.task_events.invoke(&event).response();
    assert_eq!(done["state"], "SUCCEEDED", "{done} {}", played.log());
    assert_eq!(cloud.states(&cloud.sha), ["pending", "success"]);
}

#[test]
fn github_failing_when_the_task_stops_still_gets_the_final_status() {
    let Some(cloud) = Cloud::new(OK, "PUSH", "") else { return };
    if !can_play() {
        return;
    }
    let mut kiln = Kiln::start(&cloud);
    assert_eq!(push(&cloud, &mut kiln, "d-flaky").0, 202);
    let tasks = cloud.tasks();
    let played = task::play(&cloud, &tasks[0]);
    assert_eq!(played.exit_code, Some(0), "{}", played.stderr);
    // Each invocation tries GitHub three times (RetryPolicy::intake): two invocations fail.
    cloud.github.fail_next(Route::Statuses, 6, Failure::Status(502));
    let event = task::state_change(&cloud, "task-events/stopped.json", &tasks[0], Some(0));
    for attempt in 1..=2 {
        match kiln.task_events.invoke(&event) {
            Outcome::Error { error_type, .. } => {
                assert_eq!(error_type, "kiln.Retryable", "attempt {attempt}");
            }
            answer @ Outcome::Response(_) => panic!("attempt {attempt} answered {answer:?}"),
        }
    }
    assert_eq!(cloud.states(&cloud.sha), ["pending"], "GitHub took nothing yet");
    let swept = kiln.sweeper.invoke(&samples::load("sweeper/schedule.json")).response();
    assert_eq!(swept["reposted"], serde_json::json!(["app #1"]), "{swept}");
    assert_eq!(cloud.states(&cloud.sha), ["pending", "success"]);
    let late = kiln.task_events.invoke(&event).response();
    assert_eq!(late["state"], "SUCCEEDED", "{late}");
    assert_eq!(cloud.states(&cloud.sha), ["pending", "success"], "posted once");
}

#[test]
fn secrets_not_readable_yet_fail_only_what_needs_them_until_they_are() {
    let Some(cloud) = Cloud::new(OK, "PUSH", "") else { return };
    let late_webhook = format!("kiln/late-webhook-{}", &cloud.sha[..12]);
    let late_github = format!("kiln/late-github-{}", &cloud.sha[..12]);
    let secrets = [
        ("KILN_WEBHOOK_SECRET_ARN", late_webhook.as_str()),
        ("KILN_GITHUB_SECRET_ARN", &late_github),
    ];
    let mut webhook = cloud.function_with("kiln-webhook", &secrets);
    let mut relay = cloud.function_with("kiln-log-relay", &secrets);

    // Both are ready without their secrets, and a control message needs none.
    let answer = relay.invoke(&task::control_payload()).response();
    assert_eq!(answer["outcome"], "ignored", "{answer}");

    // A delivery that cannot be checked is refused with 503 and starts nothing; the answer
    // does not say which secret (its sender is not known), the log does.
    let body = cloud.push(&cloud.sha);
    let (status, text) =
        http(webhook.invoke(&delivery("push", "late-1", &body, &sign(&body), true)));
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("webhook secret could not be read"), "{text}");
    assert!(!text.contains(&late_webhook), "{text}");
    assert!(webhook.output().contains(&late_webhook), "{}", webhook.output());
    assert!(cloud.tasks().is_empty());
    assert!(cloud.states(&cloud.sha).is_empty());

    // Once the secrets are there, the same process takes the next delivery in.
    cloud.create_secret(&late_webhook, SECRET);
    cloud.create_secret(&late_github, &format!("{{\"token\": \"{TOKEN}\"}}"));
    let (status, text) =
        http(webhook.invoke(&delivery("push", "late-2", &body, &sign(&body), true)));
    assert_eq!(status, 202, "{text}");
    assert_eq!(cloud.tasks().len(), 1);
    assert_eq!(cloud.states(&cloud.sha), ["pending"]);
    for f in [&webhook, &relay] {
        for secret in [SECRET, TOKEN] {
            assert!(!f.output().contains(secret), "{} logged a secret", f.name);
        }
    }
}
