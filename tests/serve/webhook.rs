//! `POST /webhook` as GitHub sees it: signatures, pings, redeliveries, new commits.

use std::time::Duration;

use crate::support::Site;

const OK: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - git rev-parse HEAD\n";

#[test]
fn signatures_pings_redeliveries_and_new_commits() {
    let site = Site::new(&[("buildspec.yml", OK)], "  artifacts: {type: NO_ARTIFACTS}\n");
    let serve = site.serve(&[], &[]);
    let body = site.push(&site.sha);

    let unsigned = serve.deliver_signed("push", "w-0", &body, "");
    assert_eq!(unsigned.status, 401, "{}", unsigned.text());
    let wrong = serve.deliver_signed("push", "w-0", &body, &format!("sha256={}", "0".repeat(64)));
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.json()["error"].as_str().is_some_and(|e| e.contains("X-Hub-Signature-256")),
        "{}",
        wrong.text()
    );
    let ping = serve.deliver("ping", "w-p", br#"{"zen":"Design for failure.","hook_id":12}"#);
    assert_eq!(ping.status, 200);
    assert_eq!(ping.json()["builds"], serde_json::json!([]));
    assert!(ping.json()["ignored"].is_string());
    let garbage = serve.deliver("push", "w-g", b"{not json");
    assert_eq!(garbage.status, 400, "{}", garbage.text());

    let first = serve.deliver("push", "w-1", &body);
    assert_eq!(first.status, 202, "{}", first.text());
    let build = &first.json()["builds"][0];
    assert_eq!(build["number"], 1);
    assert_eq!(build["project"], "app");
    assert!(build["url"].as_str().is_some_and(|u| u.ends_with("/builds/app/1")));
    let again = serve.deliver("push", "w-1", &body);
    assert_eq!(again.status, 202);
    assert_eq!(again.json(), first.json(), "a redelivery answers as the first time");
    let done = serve.wait_for("app", 1, Duration::from_secs(60));
    assert_eq!(done["resolvedSourceVersion"], site.sha.as_str());

    let second = site.repo.commit(&[("README", "two\n")], "second");
    let next = serve.deliver("push", "w-2", &site.push(&second));
    assert_eq!(next.json()["builds"][0]["number"], 2, "{}", next.text());
    let done = serve.wait_for("app", 2, Duration::from_secs(60));
    assert_eq!(done["resolvedSourceVersion"], second.as_str());
    assert_eq!(serve.get("/api/builds/app/3").status, 404, "the redelivery started nothing");
}
