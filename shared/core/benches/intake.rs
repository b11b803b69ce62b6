//! Benchmark: intake of one delivery — verify the signature, parse, resolve — for a 25 KB push
//! against a catalog of 200 projects (goal: under 100 µs median).

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kiln_core::project::{Extra, Resolver, load_catalog};
use kiln_core::webhook::{DeliveryHeaders, sign};
use secrecy::SecretString;
use serde_json::json;

/// A push to `octo/repo` shaped like GitHub's: a full repository object and 24 commits with
/// their metadata and a few files each, about 25 KB in all.
fn push_body() -> Vec<u8> {
    let mut commits = Vec::new();
    for i in 0..24 {
        let files: Vec<String> = (0..5).map(|j| format!("src/module_{i}/file_{j}.rs")).collect();
        let id = format!("{i:040x}");
        commits.push(json!({
            "id": id, "tree_id": id, "distinct": true,
            "message": format!("commit {i}: make the thing better\n\nlonger explanation of change {i}"),
            "timestamp": "2026-11-21T05:00:00Z",
            "url": format!("https://github.com/octo/repo/commit/{id}"),
            "author": {"name": "A Developer", "email": "dev@example.com", "username": "dev"},
            "committer": {"name": "A Developer", "email": "dev@example.com", "username": "dev"},
            "added": files[..1], "modified": files[1..4], "removed": files[4..],
        }));
    }
    let head = commits.last().cloned();
    let mut repository = serde_json::Map::new();
    repository.insert("id".into(), json!(1));
    repository.insert("name".into(), json!("repo"));
    repository.insert("full_name".into(), json!("octo/repo"));
    repository.insert("clone_url".into(), json!("https://github.com/octo/repo.git"));
    repository.insert("html_url".into(), json!("https://github.com/octo/repo"));
    for field in [
        "archive",
        "assignees",
        "blobs",
        "branches",
        "collaborators",
        "comments",
        "commits",
        "compare",
        "contents",
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "git_commits",
        "git_refs",
        "git_tags",
        "hooks",
        "issue_comment",
        "issue_events",
        "issues",
        "keys",
        "labels",
        "languages",
        "merges",
        "milestones",
        "notifications",
        "pulls",
        "releases",
        "stargazers",
        "statuses",
        "subscribers",
        "subscription",
        "tags",
        "teams",
        "trees",
    ] {
        repository.insert(
            format!("{field}_url"),
            json!(format!("https://api.github.com/repos/octo/repo/{field}{{/sha}}")),
        );
    }
    repository.insert(
        "owner".into(),
        json!({"login": "octo", "id": 1, "type": "Organization", "site_admin": false,
               "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4"}),
    );
    let body = json!({
        "ref": "refs/heads/main",
        "before": "a".repeat(40), "after": "b".repeat(40),
        "created": false, "deleted": false, "forced": false, "base_ref": null,
        "compare": "https://github.com/octo/repo/compare/aaaa...bbbb",
        "commits": commits, "head_commit": head, "repository": repository,
        "pusher": {"name": "dev", "email": "dev@example.com"},
        "sender": {"login": "dev", "id": 583_231, "type": "User", "site_admin": false},
    });
    serde_json::to_vec_pretty(&body).unwrap_or_default()
}

/// 200 projects over 100 repositories; 4 of them build `octo/repo` with varied filters.
fn catalog() -> String {
    let mut out = String::from("projects:\n");
    for i in 0..200 {
        let repo =
            if i % 50 == 0 { "octo/repo".to_owned() } else { format!("org{}/repo{}", i % 100, i) };
        let _ = write!(
            out,
            "  - name: p{i}\n    source: {{type: GITHUB, location: \"https://github.com/{repo}.git\"}}\n    webhook:\n      filterGroups:\n        - - {{type: EVENT, pattern: \"PUSH, PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED\"}}\n          - {{type: HEAD_REF, pattern: \"^refs/heads/(main|release/.*)$\"}}\n          - {{type: FILE_PATH, pattern: \"^src/module_{}/\"}}\n          - {{type: FILE_PATH, pattern: \"^buildspec.yml$\", excludeMatchedPattern: true}}\n        - - {{type: EVENT, pattern: PULL_REQUEST_MERGED}}\n          - {{type: BASE_REF, pattern: \"^refs/heads/main$\"}}\n",
            i % 40
        );
    }
    out
}

fn intake(c: &mut Criterion) {
    let body = push_body();
    let secret = SecretString::from("a webhook secret".to_owned());
    let signature = sign(&body, &secret);
    let headers = DeliveryHeaders::from_pairs([
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ("User-Agent", "GitHub-Hookshot/044aadd"),
        ("Content-Type", "application/json"),
        ("X-Hub-Signature-256", signature.as_str()),
    ]);
    let text = catalog();
    let resolver =
        load_catalog(&text).ok().and_then(|c| Resolver::new(&c).ok()).unwrap_or_default();
    let check = resolver.intake(&headers, &body, &secret).map(|i| i.resolution.builds.len());
    eprintln!("body {} bytes; builds {check:?}", body.len());
    c.bench_function("intake 25KB push, 200 projects", |b| {
        b.iter(|| resolver.intake(black_box(&headers), black_box(&body), &secret))
    });
    c.bench_function("verify only", |b| {
        b.iter(|| kiln_core::webhook::verify(black_box(&headers), black_box(&body), &secret))
    });
    if let Ok(delivery) = kiln_core::webhook::verify(&headers, &body, &secret)
        && let Ok(trigger) = kiln_core::webhook::parse("push", &delivery.payload)
    {
        c.bench_function("resolve only", |b| {
            b.iter(|| resolver.resolve(black_box(&delivery), black_box(&trigger), Extra::default()))
        });
    }
    c.bench_function("parse only", |b| {
        b.iter(|| kiln_core::webhook::parse("push", black_box(&body)))
    });
}

criterion_group!(benches, intake);
criterion_main!(benches);
