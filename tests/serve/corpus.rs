//! Every delivery of the shared webhook corpus, signed and sent to a real `kiln serve`: each is
//! answered (never a 5xx, never a hang), the ones CodeBuild builds start a build of the
//! repository they name, and the rest start nothing.

use std::time::Duration;

use crate::support::Site;

/// Points a corpus payload at the test repository: its repository, and the commit it builds.
fn aimed(mut payload: serde_json::Value, sha: &str) -> serde_json::Value {
    if let Some(repo) = payload.get_mut("repository").and_then(|r| r.as_object_mut()) {
        repo.insert("full_name".into(), "octo/repo".into());
    }
    if payload
        .get("after")
        .is_some_and(|a| a.as_str().is_some_and(|a| !a.trim_matches('0').is_empty()))
    {
        payload["after"] = sha.into();
    }
    if let Some(pr) = payload.get_mut("pull_request") {
        pr["head"]["sha"] = sha.into();
        pr["base"]["repo"]["full_name"] = "octo/repo".into();
        pr["head"]["repo"]["full_name"] = "octo/repo".into();
        pr["draft"] = false.into();
    }
    payload
}

#[test]
fn every_corpus_delivery_is_answered_and_builds_only_what_codebuild_builds() {
    let Some(corpora) = kiln_tests::corpora() else { return };
    let site = Site::with_events(
        &[(
            "buildspec.yml",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo corpus build\n",
        )],
        "PUSH, PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED, PULL_REQUEST_MERGED, PULL_REQUEST_CLOSED, RELEASED, PRERELEASED",
        "  artifacts: {type: NO_ARTIFACTS}\n  kiln: {skipCiMarkers: false}\n",
    );
    kiln_tests::git(&site.repo.work, &["tag", "-f", "v0.0.1"]);
    let serve = site.serve(&[], &[]);
    let mut files: Vec<_> = std::fs::read_dir(corpora.join("webhooks"))
        .expect("corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name().is_some_and(|n| n.to_string_lossy().contains("__"))
        })
        .collect();
    files.sort();
    let mut built = 0;
    for (i, path) in files.iter().enumerate() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let event =
            name.split("__").nth(1).and_then(|e| e.split('.').next()).unwrap_or("").to_owned();
        let Ok(payload) =
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(path).expect("read"))
        else {
            continue;
        };
        let body = serde_json::to_vec(&aimed(payload, &site.sha)).expect("json");
        let reply = serve.deliver(&event, &format!("corpus-{i}"), &body);
        assert!(
            matches!(reply.status, 200 | 202 | 400),
            "{name}: {} {}",
            reply.status,
            reply.text()
        );
        if reply.status == 202 {
            built += reply.json()["builds"].as_array().map_or(0, Vec::len);
        }
    }
    assert!(built >= 5, "the corpus's pushes and pull requests build ({built} builds)");
    for n in 1..=u64::try_from(built).expect("count") {
        let done = serve.wait_for("app", n, Duration::from_secs(120));
        assert!(done["buildStatus"].is_string(), "{done}");
    }
}
