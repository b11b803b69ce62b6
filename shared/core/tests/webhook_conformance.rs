//! Spec §8 conformance: filter matching W01–W24 and webhook variables T34–T37.

use kiln_core::project::{BuildRequest, Extra, Resolution, Resolver, load_catalog};
use kiln_core::webhook::{Delivery, DeliveryHeaders, parse, sign, verify};
use secrecy::SecretString;
use serde_json::{Value, json};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccccccccccc";
const ZERO: &str = "0000000000000000000000000000000000000000";

fn repo(full: &str) -> Value {
    json!({"full_name": full, "name": full.split('/').nth(1), "clone_url": format!("https://github.com/{full}.git")})
}

fn push_with(git_ref: &str, sender: u64, files: &[&str], messages: &[&str]) -> Value {
    let commits: Vec<Value> = messages
        .iter()
        .map(|m| json!({"id": B, "message": m, "added": [], "modified": files, "removed": []}))
        .collect();
    let head = commits.last().cloned().unwrap_or(Value::Null);
    json!({
        "ref": git_ref, "before": A, "after": B, "created": false, "deleted": false,
        "forced": false, "commits": commits, "head_commit": head,
        "repository": repo("octo/repo"), "sender": {"id": sender, "login": "u"}
    })
}

fn push(git_ref: &str) -> Value {
    push_with(git_ref, 1, &["src/a.rs"], &["change"])
}

struct Pr<'a> {
    action: &'a str,
    head: &'a str,
    base: &'a str,
    sender: u64,
    merged: bool,
    draft: bool,
    head_repo: &'a str,
}

impl Default for Pr<'_> {
    fn default() -> Self {
        Self {
            action: "opened",
            head: "feat",
            base: "main",
            sender: 583_231,
            merged: false,
            draft: false,
            head_repo: "octo/repo",
        }
    }
}

fn pr(p: Pr<'_>) -> Value {
    json!({
        "action": p.action, "number": 8,
        "pull_request": {
            "number": 8, "draft": p.draft, "merged": p.merged, "title": "t",
            "head": {"ref": p.head, "sha": C, "repo": repo(p.head_repo)},
            "base": {"ref": p.base, "sha": A, "repo": repo("octo/repo")}
        },
        "repository": repo("octo/repo"), "sender": {"id": p.sender, "login": "u"}
    })
}

fn release(action: &str, tag: &str, name: &str) -> Value {
    json!({
        "action": action,
        "release": {"tag_name": tag, "name": name, "prerelease": false, "draft": false},
        "repository": repo("octo/repo"), "sender": {"id": 1, "login": "u"}
    })
}

fn resolver(groups: Value, kiln: Value) -> Resolver {
    let project = json!({
        "name": "proj",
        "source": {"type": "GITHUB", "location": "https://github.com/octo/repo.git"},
        "webhook": {"filterGroups": groups},
        "kiln": kiln,
    });
    let catalog = load_catalog(&project.to_string()).expect("catalog");
    Resolver::new(&catalog).expect("resolver")
}

fn resolve_with(
    event: &str,
    body: &Value,
    groups: Value,
    kiln: Value,
    extra: Extra<'_>,
) -> Resolution {
    let secret = SecretString::from("s".to_owned());
    let raw = serde_json::to_vec(body).expect("json");
    let headers = DeliveryHeaders::from_pairs([
        ("X-GitHub-Event", event),
        ("X-GitHub-Delivery", "d-1"),
        ("User-Agent", "GitHub-Hookshot/951dca1"),
        ("Content-Type", "application/json"),
        ("X-Hub-Signature-256", sign(&raw, &secret).as_str()),
    ]);
    let delivery = verify(&headers, &raw, &secret).expect("verified");
    let trigger = parse(event, &delivery.payload).expect("parsed");
    resolver(groups, kiln).resolve(&delivery, &trigger, extra)
}

fn resolve(event: &str, body: &Value, groups: Value) -> Resolution {
    resolve_with(event, body, groups, json!({}), Extra::default())
}

fn builds(event: &str, body: &Value, groups: Value) -> bool {
    let r = resolve(event, body, groups);
    assert!(r.builds.len() <= 1);
    !r.builds.is_empty()
}

fn ev(pattern: &str) -> Value {
    json!({"type": "EVENT", "pattern": pattern})
}

fn f(kind: &str, pattern: &str) -> Value {
    json!({"type": kind, "pattern": pattern})
}

fn fx(kind: &str, pattern: &str) -> Value {
    json!({"type": kind, "pattern": pattern, "excludeMatchedPattern": true})
}

fn only(r: &Resolution) -> &BuildRequest {
    assert_eq!(r.builds.len(), 1, "{r:?}");
    &r.builds[0]
}

#[test]
fn w01_push_builds() {
    assert!(builds("push", &push("refs/heads/main"), json!([[ev("PUSH")]])));
}

#[test]
fn w02_w03_synchronize_is_updated_and_event_lists_are_trimmed() {
    let body = pr(Pr { action: "synchronize", ..Pr::default() });
    assert!(!builds("pull_request", &body, json!([[ev("PULL_REQUEST_CREATED")]])));
    assert!(builds(
        "pull_request",
        &body,
        json!([[ev("PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED")]])
    ));
}

#[test]
fn w04_edited_has_no_event_type() {
    let body = pr(Pr { action: "edited", ..Pr::default() });
    let r = resolve("pull_request", &body, json!([[ev("PULL_REQUEST_UPDATED")]]));
    assert!(r.builds.is_empty());
    assert_eq!(r.event, None);
    assert!(r.ignored.is_some());
}

#[test]
fn w05_w06_closed_merged_or_not() {
    let merged = pr(Pr { action: "closed", merged: true, ..Pr::default() });
    assert!(builds("pull_request", &merged, json!([[ev("PULL_REQUEST_MERGED")]])));
    assert!(!builds("pull_request", &merged, json!([[ev("PULL_REQUEST_CLOSED")]])));
    let closed = pr(Pr { action: "closed", merged: false, ..Pr::default() });
    assert!(builds("pull_request", &closed, json!([[ev("PULL_REQUEST_CLOSED")]])));
}

#[test]
fn w07_release_actions() {
    let g = json!([[ev("RELEASED")]]);
    assert!(!builds("release", &release("published", "v1", "One"), g.clone()));
    assert!(builds("release", &release("released", "v1", "One"), g));
    assert!(builds("release", &release("prereleased", "v1", "One"), json!([[ev("PRERELEASED")]])));
}

#[test]
fn w08_anchored_head_ref() {
    let g = json!([[ev("PUSH"), f("HEAD_REF", "^refs/heads/main$")]]);
    assert!(!builds("push", &push("refs/heads/main-2"), g.clone()));
    assert!(builds("push", &push("refs/heads/main"), g));
}

#[test]
fn w09_branch_prefix() {
    let g = json!([[ev("PUSH"), f("HEAD_REF", "^refs/heads/")]]);
    assert!(builds("push", &push("refs/heads/feature/x"), g.clone()));
    assert!(!builds("push", &push("refs/tags/v1"), g));
}

#[test]
fn w10_excluded_tags() {
    let g = json!([[ev("PUSH, PULL_REQUEST_CREATED"), fx("HEAD_REF", "^refs/tags/.*")]]);
    assert!(!builds("push", &push("refs/tags/v1"), g.clone()));
    assert!(builds("push", &push("refs/heads/dev"), g));
}

fn w11_groups() -> Value {
    json!([
        [ev("PULL_REQUEST_CREATED,PULL_REQUEST_UPDATED"), f("BASE_REF", "^refs/heads/main$")],
        [ev("PUSH"), f("HEAD_REF", "^refs/heads/branch1$")]
    ])
}

#[test]
fn w11_w12_second_group() {
    assert!(builds("push", &push("refs/heads/branch1"), w11_groups()));
    let body = pr(Pr { head: "feat", base: "develop", ..Pr::default() });
    assert!(!builds("pull_request", &body, w11_groups()));
}

#[test]
fn w13_base_ref_fails_on_push_unless_excluded() {
    let g = json!([[ev("PUSH"), f("BASE_REF", "^refs/heads/main$")]]);
    assert!(!builds("push", &push("refs/heads/main"), g));
    let g = json!([[ev("PUSH"), fx("BASE_REF", "^refs/heads/main$")]]);
    assert!(builds("push", &push("refs/heads/main"), g));
}

#[test]
fn w14_w15_actor_search_semantics() {
    let anchored = json!([[ev("PUSH"), f("ACTOR_ACCOUNT_ID", "^12345$")]]);
    let b = |id| push_with("refs/heads/main", id, &["a"], &["m"]);
    assert!(builds("push", &b(12345), anchored.clone()));
    assert!(!builds("push", &b(123_456), anchored));
    let loose = json!([[ev("PUSH"), f("ACTOR_ACCOUNT_ID", "12345")]]);
    assert!(builds("push", &b(123_456), loose));
}

#[test]
fn w16_excluded_actor() {
    let g = json!([[
        ev("PULL_REQUEST_CREATED"),
        f("BASE_REF", "^refs/heads/main$"),
        fx("ACTOR_ACCOUNT_ID", "12345")
    ]]);
    assert!(!builds("pull_request", &pr(Pr { sender: 12345, ..Pr::default() }), g.clone()));
    assert!(builds("pull_request", &pr(Pr { sender: 999, ..Pr::default() }), g));
}

#[test]
fn w17_file_path_any_file() {
    let g = json!([[ev("PUSH"), f("FILE_PATH", "^src/")]]);
    let docs = push_with("refs/heads/main", 1, &["docs/readme.md"], &["m"]);
    assert!(!builds("push", &docs, g.clone()));
    let both = push_with("refs/heads/main", 1, &["docs/readme.md", "src/a.rs"], &["m"]);
    assert!(builds("push", &both, g));
}

#[test]
fn w18_excluded_file_path_blocks_when_any_file_matches() {
    let g = json!([[ev("PUSH"), fx("FILE_PATH", "^buildspec.yml$")]]);
    let p = |files: &[&str]| push_with("refs/heads/main", 1, files, &["m"]);
    assert!(!builds("push", &p(&["buildspec.yml"]), g.clone()));
    assert!(builds("push", &p(&["src/a.rs"]), g.clone()));
    assert!(!builds("push", &p(&["buildspec.yml", "src/a.rs"]), g));
}

#[test]
fn w18_file_path_is_the_union_over_commits() {
    let mut body = push_with("refs/heads/main", 1, &["docs/x.md"], &["one", "two"]);
    body["commits"][0]["added"] = json!(["src/new.rs"]);
    assert!(builds("push", &body, json!([[ev("PUSH"), f("FILE_PATH", "^src/")]])));
}

#[test]
fn w19_commit_message_is_the_head_commits() {
    let g = json!([[ev("PUSH"), f("COMMIT_MESSAGE", "\\[CodeBuild\\]")]]);
    let first = push_with("refs/heads/main", 1, &["a"], &["wip [CodeBuild]", "more", "fix"]);
    assert!(!builds("push", &first, g.clone()));
    let head = push_with("refs/heads/main", 1, &["a"], &["wip", "more", "fix [CodeBuild]"]);
    assert!(builds("push", &head, g));
}

#[test]
fn w20_tag_and_release_names() {
    let body = release("released", "v2.0.1", "Spring");
    assert!(builds("release", &body, json!([[ev("RELEASED"), f("TAG_NAME", "^v2\\.")]])));
    assert!(!builds("release", &body, json!([[ev("RELEASED"), f("RELEASE_NAME", "^Fall")]])));
}

#[test]
fn w21_group_without_event_is_a_catalog_error() {
    let project = json!({
        "name": "proj",
        "source": {"location": "https://github.com/octo/repo"},
        "webhook": {"filterGroups": [[f("HEAD_REF", "^refs/heads/main$")]]},
    });
    let err = load_catalog(&project.to_string()).expect_err("invalid");
    let text = err.to_string();
    assert!(text.contains("project proj, filter group 1 has no EVENT filter"), "{text}");
}

#[test]
fn w22_ping_builds_nothing() {
    let r = resolve(
        "ping",
        &json!({"zen": "Keep it logically awesome.", "hook_id": 1}),
        json!([[ev("PUSH")]]),
    );
    assert!(r.builds.is_empty());
    assert!(r.ignored.as_deref().is_some_and(|s| s.starts_with("ping")));
}

#[test]
fn w23_deleted_ref_builds_nothing() {
    let mut body = push("refs/heads/gone");
    body["deleted"] = json!(true);
    body["after"] = json!(ZERO);
    body["head_commit"] = Value::Null;
    let r = resolve("push", &body, json!([[ev("PUSH")]]));
    assert!(r.builds.is_empty());
    assert!(r.ignored.as_deref().is_some_and(|s| s.contains("deletes refs/heads/gone")), "{r:?}");
}

#[test]
fn w24_groups_are_ored() {
    let g = json!([[ev("PUSH")], [ev("PULL_REQUEST_CREATED"), f("BASE_REF", "^refs/heads/main$")]]);
    assert!(builds("pull_request", &pr(Pr::default()), g));
}

#[test]
fn t34_push_variables() {
    let r = resolve("push", &push("refs/heads/main"), json!([[ev("PUSH")]]));
    let b = only(&r);
    assert_eq!(b.var("CODEBUILD_WEBHOOK_EVENT"), Some("PUSH"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_TRIGGER"), Some("branch/main"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_HEAD_REF"), Some("refs/heads/main"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_PREV_COMMIT"), Some(A));
    assert_eq!(b.var("CODEBUILD_SOURCE_VERSION"), Some(B));
    assert_eq!(b.var("CODEBUILD_RESOLVED_SOURCE_VERSION"), Some(B));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_BASE_REF"), None);
    assert_eq!(b.source_version, B);
    assert_eq!(b.commit.as_ref().map(|c| c.as_str()), Some(B));
}

#[test]
fn t35_pull_request_variables() {
    let r = resolve("pull_request", &pr(Pr::default()), json!([[ev("PULL_REQUEST_CREATED")]]));
    let b = only(&r);
    assert_eq!(b.source_version, "pr/8");
    assert_eq!(b.var("CODEBUILD_SOURCE_VERSION"), Some("pr/8"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_TRIGGER"), Some("pr/8"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_EVENT"), Some("PULL_REQUEST_CREATED"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_HEAD_REF"), Some("refs/heads/feat"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_BASE_REF"), Some("refs/heads/main"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID"), Some("583231"));
    assert_eq!(b.var("CODEBUILD_RESOLVED_SOURCE_VERSION"), Some(C));
    assert_eq!(b.commit.as_ref().map(|c| c.as_str()), Some(C));
}

#[test]
fn t36_tag_push_variables() {
    let r = resolve("push", &push("refs/tags/v1.2.0"), json!([[ev("PUSH")]]));
    let b = only(&r);
    assert_eq!(b.var("CODEBUILD_WEBHOOK_TRIGGER"), Some("tag/v1.2.0"));
    assert_eq!(b.var("CODEBUILD_WEBHOOK_HEAD_REF"), Some("refs/tags/v1.2.0"));
}

#[test]
fn t37_initiator_is_the_hookshot_user_agent() {
    let r = resolve("push", &push("refs/heads/main"), json!([[ev("PUSH")]]));
    assert_eq!(only(&r).var("CODEBUILD_INITIATOR"), Some("GitHub-Hookshot/951dca1"));
    let local = kiln_core::project::request_for_local_event(
        "proj",
        "push",
        &serde_json::to_vec(&push("refs/heads/main")).expect("json"),
    )
    .expect("builds")
    .0;
    assert!(local.var("CODEBUILD_INITIATOR").is_some_and(|v| v.starts_with("GitHub-Hookshot/")));
}

#[test]
fn forks_drafts_and_skip_markers_follow_kiln_settings() {
    let g = json!([[ev("PULL_REQUEST_CREATED")]]);
    let fork = pr(Pr { head_repo: "someone/repo", ..Pr::default() });
    let r = resolve_with("pull_request", &fork, g.clone(), json!({}), Extra::default());
    let b = only(&r);
    assert!(b.from_fork && !b.with_secrets);
    let r = resolve_with(
        "pull_request",
        &fork,
        g.clone(),
        json!({"forkPullRequests": "never"}),
        Extra::default(),
    );
    assert!(r.builds.is_empty() && r.skipped[0].reason.contains("fork"));
    let r = resolve_with(
        "pull_request",
        &fork,
        g.clone(),
        json!({"forkPullRequests": "always"}),
        Extra::default(),
    );
    assert!(only(&r).with_secrets);

    let draft = pr(Pr { draft: true, ..Pr::default() });
    assert!(
        resolve_with("pull_request", &draft, g.clone(), json!({}), Extra::default())
            .builds
            .is_empty()
    );
    let r = resolve_with(
        "pull_request",
        &draft,
        g,
        json!({"skipDraftPullRequests": false}),
        Extra::default(),
    );
    assert_eq!(r.builds.len(), 1);

    let skip = push_with("refs/heads/main", 1, &["a"], &["docs [skip ci]"]);
    let r = resolve_with("push", &skip, json!([[ev("PUSH")]]), json!({}), Extra::default());
    assert!(r.builds.is_empty() && r.skipped[0].reason.contains("[skip ci]"));
    let r = resolve_with(
        "push",
        &skip,
        json!([[ev("PUSH")]]),
        json!({"skipCiMarkers": false}),
        Extra::default(),
    );
    assert_eq!(r.builds.len(), 1);
}

#[test]
fn pull_request_file_paths_need_the_source_host() {
    let g = json!([[ev("PULL_REQUEST_CREATED"), f("FILE_PATH", "^src/")]]);
    let r =
        resolve_with("pull_request", &pr(Pr::default()), g.clone(), json!({}), Extra::default());
    assert!(r.builds.is_empty());
    assert!(r.skipped[0].reason.contains("changed files"), "{r:?}");
    let files = vec!["src/a.rs".to_owned()];
    let extra = Extra { changed_files: Some(&files), head_commit_message: None };
    assert_eq!(
        resolve_with("pull_request", &pr(Pr::default()), g.clone(), json!({}), extra).builds.len(),
        1
    );
    let docs = vec!["docs/a.md".to_owned()];
    let extra = Extra { changed_files: Some(&docs), head_commit_message: None };
    assert!(
        resolve_with("pull_request", &pr(Pr::default()), g, json!({}), extra).builds.is_empty()
    );
}

#[test]
fn idempotency_keys_depend_on_delivery_and_project() {
    let r = resolve("push", &push("refs/heads/main"), json!([[ev("PUSH")]]));
    let again = resolve("push", &push("refs/heads/main"), json!([[ev("PUSH")]]));
    assert_eq!(only(&r).idempotency_key, only(&again).idempotency_key);
    assert_eq!(only(&r).idempotency_key.len(), 64);
    let other = kiln_core::project::request_for_local_event(
        "other",
        "push",
        &serde_json::to_vec(&push("refs/heads/main")).expect("json"),
    )
    .expect("builds")
    .0;
    assert_ne!(other.idempotency_key, only(&r).idempotency_key);
}

#[test]
fn unsigned_local_deliveries_parse_form_bodies() {
    let json = serde_json::to_string(&push("refs/heads/main")).expect("json");
    let body: String = form_urlencoded_body(&json);
    let d = Delivery::unsigned("push", body.as_bytes()).expect("body");
    assert_eq!(d.payload, json.as_bytes());
}

fn form_urlencoded_body(json: &str) -> String {
    let mut out = String::from("payload=");
    for b in json.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

mod source_host {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use kiln_core::ports::{PortError, PortFuture, PullRequestDetails, SourceHost};
    use kiln_core::webhook::{CommitSha, RepoFullName};

    use super::*;

    struct FakeHost {
        details: PullRequestDetails,
        calls: AtomicUsize,
    }

    impl SourceHost for FakeHost {
        fn pull_request_details<'a>(
            &'a self,
            repo: &'a RepoFullName,
            number: u64,
            head_sha: &'a CommitSha,
        ) -> PortFuture<'a, PullRequestDetails> {
            assert_eq!(repo.as_str(), "octo/repo");
            assert_eq!(number, 8);
            assert_eq!(head_sha.as_str(), C);
            self.calls.fetch_add(1, Ordering::SeqCst);
            let d = self.details.clone();
            Box::pin(async move { Ok::<_, PortError>(d) })
        }

        fn file_at<'a>(
            &'a self,
            _: &'a RepoFullName,
            _: &'a CommitSha,
            path: &'a str,
        ) -> PortFuture<'a, Vec<u8>> {
            let e =
                PortError::new(kiln_core::ports::PortErrorKind::NotFound, format!("read {path}"));
            Box::pin(async move { Err(e) })
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the fake host never waits"),
        }
    }

    fn run(event: &str, body: &Value, groups: Value, host: &FakeHost) -> Resolution {
        let raw = serde_json::to_vec(body).expect("json");
        let delivery = Delivery::unsigned(event, &raw).expect("delivery");
        let trigger = parse(event, &delivery.payload).expect("parsed");
        block_on(resolver(groups, json!({})).resolve_with_host(&delivery, &trigger, host))
            .expect("resolved")
    }

    fn host(files: &[&str], message: &str) -> FakeHost {
        FakeHost {
            details: PullRequestDetails {
                changed_files: files.iter().map(|s| (*s).to_owned()).collect(),
                head_commit_message: Some(message.to_owned()),
            },
            calls: AtomicUsize::new(0),
        }
    }

    #[test]
    fn pull_request_file_filters_ask_the_host_once() {
        let g = json!([[ev("PULL_REQUEST_CREATED"), f("FILE_PATH", "^src/")]]);
        let h = host(&["src/a.rs"], "m");
        assert_eq!(run("pull_request", &pr(Pr::default()), g.clone(), &h).builds.len(), 1);
        assert_eq!(h.calls.load(Ordering::SeqCst), 1);
        let h = host(&["docs/a.md"], "m");
        assert!(run("pull_request", &pr(Pr::default()), g, &h).builds.is_empty());
    }

    #[test]
    fn the_host_is_not_asked_when_nothing_needs_it() {
        let h = host(&[], "m");
        let g = json!([[ev("PULL_REQUEST_CREATED")]]);
        assert_eq!(run("pull_request", &pr(Pr::default()), g, &h).builds.len(), 1);
        let g = json!([[ev("PULL_REQUEST_UPDATED"), f("FILE_PATH", "^src/")]]);
        assert!(run("pull_request", &pr(Pr::default()), g, &h).builds.is_empty());
        let g = json!([[ev("PUSH"), f("FILE_PATH", "^src/")]]);
        assert_eq!(run("push", &push("refs/heads/main"), g, &h).builds.len(), 1);
        assert_eq!(h.calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn pull_request_commit_messages_come_from_the_host() {
        let g = json!([[ev("PULL_REQUEST_CREATED"), f("COMMIT_MESSAGE", "^release:")]]);
        let h = host(&[], "release: 1.0");
        assert_eq!(run("pull_request", &pr(Pr::default()), g.clone(), &h).builds.len(), 1);
        let h = host(&[], "release: 1.0 [skip ci]");
        let r = run("pull_request", &pr(Pr::default()), g, &h);
        assert!(r.builds.is_empty() && r.skipped[0].reason.contains("[skip ci]"), "{r:?}");
    }
}
