//! `kiln serve` against a fake GitHub on the wire (its request bodies checked against GitHub's
//! OpenAPI description) and git over HTTP from a local bare repository: the commit statuses a
//! push, a failure, an invalid buildspec, a fork, GitHub failing and a crash each end with.

use std::time::{Duration, Instant};

use kiln_fake_github::{Failure, FakeGitHub, Route, TEST_APP_PRIVATE_KEY_PEM};

use crate::support::{Serve, Site};

/// The fake GitHub on a runtime of its own, for tests that are not async.
struct GitHub {
    fake: FakeGitHub,
    _runtime: tokio::runtime::Runtime,
}

impl GitHub {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let fake = runtime.block_on(FakeGitHub::start());
        Self { fake, _runtime: runtime }
    }

    /// The states posted on `sha`, in order.
    fn states(&self, sha: &str) -> Vec<String> {
        self.fake.statuses().into_iter().filter(|s| s.sha == sha).map(|s| s.state).collect()
    }

    /// Waits until `sha` has a terminal status (or a while has passed).
    fn final_state(&self, sha: &str, timeout: Duration) -> Option<String> {
        let started = Instant::now();
        loop {
            let last = self.states(sha).last().cloned();
            if last.as_deref().is_some_and(|s| s != "pending") || started.elapsed() > timeout {
                return last;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn site_with(github: &GitHub, buildspec: &str, extra: &str) -> Site {
    site_for(github, buildspec, "PUSH", extra)
}

fn site_for(github: &GitHub, buildspec: &str, events: &str, extra: &str) -> Site {
    let site = Site::with_events(&[("buildspec.yml", buildspec)], events, extra);
    github.fake.add_commit("octo/repo", &site.sha, "first commit");
    github.fake.add_file("octo/repo", &site.sha, "buildspec.yml", buildspec.as_bytes());
    site
}

fn serve_token(site: &Site, github: &GitHub) -> Serve {
    github.fake.add_token("ghp_test_token");
    site.serve(
        &[("GITHUB_TOKEN", "ghp_test_token")],
        &["--github-api", &github.fake.api_url(), "--public-url", "http://kiln.test"],
    )
}

const OK: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo the build ran\n";

#[test]
fn a_push_posts_pending_then_success_with_a_link_to_the_log() {
    let github = GitHub::start();
    let site = site_with(&github, OK, "  artifacts: {type: NO_ARTIFACTS}\n");
    let serve = serve_token(&site, &github);
    let reply = serve.deliver("push", "g-1", &site.push(&site.sha));
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(github.final_state(&site.sha, Duration::from_secs(60)).as_deref(), Some("success"));
    assert_eq!(github.states(&site.sha), ["pending", "success"]);
    let statuses = github.fake.statuses();
    assert!(statuses.iter().all(|s| s.context == "AWS CodeBuild us-east-1 (app)"), "{statuses:?}");
    assert_eq!(statuses[1].description.as_deref(), Some("Build succeeded for project app"));
    let target = statuses[1].target_url.clone().expect("a target_url");
    assert_eq!(target, "http://kiln.test/builds/app/1");
    let page = serve.get(target.trim_start_matches("http://kiln.test"));
    assert!(page.text().contains("the build ran"), "the linked page shows the log");
    let token_use = github.fake.requests_to(Route::Statuses);
    assert!(
        token_use.iter().all(|r| r.header("authorization") == Some("Bearer ghp_test_token")
            || r.header("authorization") == Some("token ghp_test_token")),
        "{token_use:?}"
    );
    github.fake.assert_no_violations();

    let again = serve.deliver("push", "g-1", &site.push(&site.sha));
    assert_eq!(again.status, 202);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(github.states(&site.sha).len(), 2, "a redelivery posts nothing");
}

#[test]
fn failures_invalid_buildspecs_and_refused_deliveries() {
    let github = GitHub::start();
    let failing = "version: 0.2\nphases:\n  build:\n    commands:\n      - exit 5\n";
    let site = site_with(&github, failing, "  artifacts: {type: NO_ARTIFACTS}\n");
    let serve = serve_token(&site, &github);
    serve.deliver("push", "f-1", &site.push(&site.sha));
    assert_eq!(github.final_state(&site.sha, Duration::from_secs(60)).as_deref(), Some("failure"));

    let invalid =
        "version: 0.2\nphases:\n  biuld:\n    commands:\n      - touch /tmp/kiln-must-not-run\n";
    let sha = site.repo.commit(&[("buildspec.yml", invalid)], "typo");
    github.fake.add_commit("octo/repo", &sha, "typo");
    github.fake.add_file("octo/repo", &sha, "buildspec.yml", invalid.as_bytes());
    let reply = serve.deliver("push", "f-2", &site.push(&sha));
    assert_eq!(reply.status, 202);
    assert_eq!(github.final_state(&sha, Duration::from_secs(30)).as_deref(), Some("failure"));
    assert_eq!(github.states(&sha), ["failure"], "no pending for a build that never starts");
    let description = github
        .fake
        .statuses()
        .into_iter()
        .rfind(|s| s.sha == sha)
        .and_then(|s| s.description)
        .unwrap_or_default();
    assert!(description.contains("buildspec.yml:3:"), "{description}");
    let number = reply.json()["builds"][0]["number"].as_u64().expect("number");
    let log = serve.get(&format!("/builds/app/{number}/log"));
    assert!(log.text().is_empty(), "no command ran: {}", log.text());

    let before = github.fake.requests().len();
    let body = site.push(&site.sha);
    assert_eq!(serve.deliver_signed("push", "f-3", &body, "").status, 401);
    assert_eq!(
        serve.deliver_signed("push", "f-3", &body, &format!("sha256={}", "ab".repeat(32))).status,
        401
    );
    assert_eq!(serve.deliver("ping", "f-4", br#"{"zen":"x","hook_id":1}"#).status, 200);
    assert_eq!(
        github.fake.requests().len(),
        before,
        "no call to GitHub for a refused delivery or a ping"
    );
    github.fake.assert_no_violations();
}

#[test]
fn two_502s_from_the_status_api_still_end_with_the_final_status() {
    let github = GitHub::start();
    let site = site_with(&github, OK, "  artifacts: {type: NO_ARTIFACTS}\n");
    let serve = serve_token(&site, &github);
    github.fake.fail_next(Route::Statuses, 2, Failure::Status(502));
    serve.deliver("push", "r-1", &site.push(&site.sha));
    assert_eq!(github.final_state(&site.sha, Duration::from_secs(60)).as_deref(), Some("success"));
    let attempts = github.fake.requests_to(Route::Statuses).len();
    assert!(attempts >= 4, "the two 502s were retried: {attempts} requests");
    github.fake.assert_no_violations();
}

#[test]
fn a_server_killed_mid_build_leaves_no_status_pending_after_it_restarts() {
    let github = GitHub::start();
    let site = site_with(
        &github,
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 300\n",
        "  artifacts: {type: NO_ARTIFACTS}\n",
    );
    let mut serve = serve_token(&site, &github);
    serve.deliver("push", "k-1", &site.push(&site.sha));
    let started = Instant::now();
    while github.states(&site.sha).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "no pending status");
        std::thread::sleep(Duration::from_millis(50));
    }
    serve.kill();
    assert_eq!(github.states(&site.sha), ["pending"]);
    let serve = serve_token(&site, &github);
    assert_eq!(github.final_state(&site.sha, Duration::from_secs(30)).as_deref(), Some("error"));
    let description = github
        .fake
        .statuses()
        .into_iter()
        .next_back()
        .and_then(|s| s.description)
        .unwrap_or_default();
    assert!(description.contains("kiln restarted"), "{description}");
    assert_eq!(serve.get("/api/builds/app/1").json()["buildStatus"], "FAULT");
    github.fake.assert_no_violations();
}

#[test]
fn an_app_fetches_with_a_one_repository_token_and_a_fork_builds_without_secrets() {
    let github = GitHub::start();
    let buildspec = "version: 0.2\nenv:\n  parameter-store:\n    TOKEN: /app/token\nphases:\n  build:\n    commands:\n      - echo \"token=[${TOKEN:-unset}]\"\n      - git config --list --show-origin\n";
    let site = site_for(
        &github,
        buildspec,
        "PUSH, PULL_REQUEST_CREATED",
        "  artifacts: {type: NO_ARTIFACTS}\n",
    );
    github.fake.add_app(42);
    github.fake.install(7, &["octo/repo"]);
    let key = site.path("app.pem");
    std::fs::write(&key, TEST_APP_PRIVATE_KEY_PEM).expect("key");
    let secrets = site.path("secrets.env");
    std::fs::write(&secrets, "/app/token=s3cret-value\n").expect("secrets");
    let serve = site.serve(
        &[("KILN_GITHUB_APP_ID", "42"), ("KILN_GITHUB_APP_KEY_FILE", key.to_str().expect("utf-8"))],
        &["--github-api", &github.fake.api_url(), "--secrets", secrets.to_str().expect("utf-8")],
    );
    let fork = serde_json::json!({
        "action": "opened",
        "number": 8,
        "pull_request": {
            "number": 8, "draft": false, "merged": false,
            "head": {"ref": "feat", "sha": site.sha, "repo": {"full_name": "someone/repo"}},
            "base": {"ref": "main", "sha": site.sha, "repo": {"full_name": "octo/repo"}},
        },
        "repository": {"full_name": "octo/repo"},
        "sender": {"id": 99, "login": "someone"},
    });
    kiln_tests::git(&site.repo.work, &["push", "-q", "origin", "HEAD:refs/pull/8/head"]);
    let reply = serve.deliver("pull_request", "a-1", &serde_json::to_vec(&fork).expect("json"));
    assert_eq!(reply.status, 202, "{}", reply.text());
    let state = github.final_state(&site.sha, Duration::from_secs(60));
    let log = serve.get("/builds/app/1/log").text();
    assert_eq!(state.as_deref(), Some("success"), "{log}{:?}", github.fake.statuses());
    assert!(log.contains("token=[unset]"), "a fork's build has no secrets:\n{log}");
    assert!(!log.contains("s3cret-value"));
    let minted = github.fake.issued_tokens();
    let source = minted.iter().find(|t| t.repositories.is_some()).expect("a source token");
    assert_eq!(source.repositories.as_deref(), Some(&["repo".to_owned()][..]));
    assert_eq!(
        source.permissions.as_ref().and_then(|p| p.get("contents")).map(String::as_str),
        Some("read")
    );
    let used = site.git.authorizations.lock().expect("lock").clone();
    assert!(
        used.iter().flatten().any(|h| h.starts_with("Basic ")),
        "the fetch used the token: {used:?}"
    );
    assert!(!log.contains(&source.token), "the token never reaches the build's commands");
    let config = std::fs::read_to_string(site.data().join("builds/app/1/src/.git/config"))
        .expect("git config");
    assert!(!config.contains(&source.token) && !config.contains("extraHeader"), "{config}");
    github.fake.assert_no_violations();
}
