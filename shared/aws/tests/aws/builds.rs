//! `S3BuildStore` against the emulator: the `BuildStore` contract, in the layout
//! `FsBuildStore` keeps.

use std::sync::Arc;

use kiln_aws::S3BuildStore;
use kiln_core::build::{
    Build, BuildEnvironment, BuildIdentity, BuildRef, BuildState, RECORD_FORMAT, SourceSpec, layout,
};
use kiln_core::ports::{BuildStore, Created, PortErrorKind};

use crate::support;

/// A queued build `number` of `project` under `key`, started at `start` ms.
pub fn build(project: &str, number: u64, key: &str, start: i64) -> Build {
    Build {
        kiln_record_format: RECORD_FORMAT,
        identity: BuildIdentity {
            project: project.into(),
            uuid: format!("00000000-0000-4000-8000-{number:012}"),
            number,
            region: support::REGION.into(),
            account: "123456789012".into(),
        },
        idempotency_key: key.into(),
        revision: 1,
        state: BuildState::Queued,
        reason: None,
        webhook: None,
        source: SourceSpec::NoSource,
        source_version: None,
        resolved_source_version: None,
        initiator: "tests".into(),
        start_time: start,
        end_time: None,
        environment: BuildEnvironment {
            image: "aws/codebuild/standard:7.0".into(),
            compute_type: "BUILD_GENERAL1_SMALL".into(),
            environment_type: "LINUX_CONTAINER".into(),
        },
        timeout_seconds: 3600,
        with_secrets: true,
        buildspec_override: None,
        builtin_variables: Vec::new(),
        environment_variables_override: Vec::new(),
        task: None,
        status_report: None,
    }
}

async fn store() -> Option<(S3BuildStore, aws_sdk_s3::Client, String)> {
    let url = support::moto_url()?;
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "state").await;
    Some((S3BuildStore::new(&sdk, &bucket), kiln_aws::s3_client(&sdk), bucket))
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let listed = s3.list_objects_v2().bucket(bucket).send().await;
    let mut keys: Vec<String> = listed
        .ok()
        .map(|l| l.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[tokio::test]
async fn numbers_count_up_and_never_repeat_under_concurrent_claims() {
    let Some((store, _, _)) = store().await else { return };
    assert_eq!(store.claim_number("web").await.ok(), Some(1));
    assert_eq!(store.claim_number("web").await.ok(), Some(2));
    assert_eq!(store.claim_number("api").await.ok(), Some(1));
    let store = Arc::new(store);
    let mut claims = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        claims.spawn(async move { store.claim_number("web").await });
    }
    let mut got = Vec::new();
    while let Some(joined) = claims.join_next().await {
        let claimed = joined.ok().and_then(Result::ok);
        got.push(claimed.unwrap_or_else(|| panic!("a claim failed")));
    }
    got.sort_unstable();
    assert_eq!(got, (3..=10).collect::<Vec<_>>());
}

#[tokio::test]
async fn create_writes_the_layout_and_a_second_create_returns_the_first() {
    let Some((store, s3, bucket)) = store().await else { return };
    let first = build("web", 1, "key-1", 1000);
    let created = store.create(&first).await.ok();
    assert_eq!(created, Some(Created::New(first.clone())));
    assert_eq!(keys(&s3, &bucket).await, ["builds/web/1/build.json", "keys/key-1", "open/web/1"]);
    let second = build("web", 2, "key-1", 2000);
    let again = store.create(&second).await.ok();
    assert_eq!(again, Some(Created::Existing(first.clone())));
    assert_eq!(keys(&s3, &bucket).await, ["builds/web/1/build.json", "keys/key-1", "open/web/1"]);
    let lost = store.read(&BuildRef::new("web", 2)).await.err();
    assert_eq!(lost.map(|e| e.kind), Some(PortErrorKind::NotFound));
    assert_eq!(store.find("key-1").await.ok(), Some(Some(first.clone())));
    assert_eq!(store.find("key-2").await.ok(), Some(None));
    assert_eq!(store.read(&first.build_ref()).await.ok(), Some(first));
    let key = s3.get_object().bucket(&bucket).key(layout::idempotency_key("key-1")).send().await;
    let text = match key {
        Ok(o) => o.body.collect().await.map(|b| b.into_bytes().to_vec()).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    assert_eq!(text, b"web/1\n");
}

#[tokio::test]
async fn concurrent_creates_of_one_key_make_one_record() {
    let Some((store, s3, bucket)) = store().await else { return };
    let store = Arc::new(store);
    let mut creates = tokio::task::JoinSet::new();
    for n in 1..=8 {
        let store = Arc::clone(&store);
        creates
            .spawn(async move { store.create(&build("web", n, "one-key", 1000 + n as i64)).await });
    }
    let mut new = Vec::new();
    let mut existing = Vec::new();
    while let Some(joined) = creates.join_next().await {
        match joined.ok().and_then(Result::ok) {
            Some(Created::New(b)) => new.push(b),
            Some(Created::Existing(b)) => existing.push(b),
            None => {}
        }
    }
    assert_eq!(new.len(), 1, "exactly one create wins");
    assert!(existing.iter().all(|b| b == &new[0]), "every other create returns the winner");
    let records: Vec<String> =
        keys(&s3, &bucket).await.into_iter().filter(|k| k.starts_with("builds/")).collect();
    assert_eq!(records, [layout::record_key(&new[0].build_ref())], "losers removed their records");
}

#[tokio::test]
async fn update_is_compare_and_swap() {
    let Some((store, s3, bucket)) = store().await else { return };
    let b = build("web", 1, "k", 1000);
    assert!(store.create(&b).await.is_ok());
    let mut running = b.clone();
    running.state = BuildState::InProgress;
    let stored = store.update(&running).await.ok();
    assert_eq!(stored.as_ref().map(|s| s.revision), Some(2));
    let stale = store.update(&running).await.err();
    assert_eq!(stale.map(|e| e.kind), Some(PortErrorKind::Conflict));
    let Some(stored) = stored else { return };
    let store = Arc::new(store);
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..4 {
        let (store, mut next) = (Arc::clone(&store), stored.clone());
        next.reason = Some(format!("writer {i}"));
        racers.spawn(async move { store.update(&next).await });
    }
    let mut wins = 0;
    while let Some(joined) = racers.join_next().await {
        match joined.ok() {
            Some(Ok(_)) => wins += 1,
            Some(Err(e)) => assert_eq!(e.kind, PortErrorKind::Conflict, "{e:?}"),
            None => {}
        }
    }
    assert_eq!(wins, 1);
    let current = store.read(&b.build_ref()).await.ok();
    assert_eq!(current.as_ref().map(|c| c.revision), Some(3));
    let Some(mut done) = current else { return };
    done.state = BuildState::Succeeded;
    done.end_time = Some(5000);
    assert!(store.update(&done).await.is_ok());
    assert!(!keys(&s3, &bucket).await.contains(&"open/web/1".to_owned()));
    let missing = store.update(&build("web", 9, "none", 1)).await.err();
    assert_eq!(missing.map(|e| e.kind), Some(PortErrorKind::NotFound));
}

#[tokio::test]
async fn open_and_recent_builds() {
    let Some((store, _, _)) = store().await else { return };
    for (project, n, start) in [("web", 1, 100), ("web", 2, 300), ("api", 1, 200), ("web", 3, 400)]
    {
        assert!(store.create(&build(project, n, &format!("{project}-{n}"), start)).await.is_ok());
    }
    let mut done = build("web", 2, "web-2", 300);
    done.state = BuildState::Failed;
    assert!(store.update(&done).await.is_ok());
    let open: Vec<(String, u64)> = store
        .list_open()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|b| (b.identity.project, b.identity.number))
        .collect();
    assert_eq!(open, [("web".to_owned(), 1), ("api".to_owned(), 1), ("web".to_owned(), 3)]);
    let refs = |builds: Vec<Build>| -> Vec<String> {
        builds.iter().map(|b| format!("{}/{}", b.identity.project, b.identity.number)).collect()
    };
    assert_eq!(
        refs(store.list_recent(None, 10).await.unwrap_or_default()),
        ["web/3", "web/2", "api/1", "web/1"]
    );
    assert_eq!(refs(store.list_recent(None, 2).await.unwrap_or_default()), ["web/3", "web/2"]);
    assert_eq!(
        refs(store.list_recent(Some("web"), 2).await.unwrap_or_default()),
        ["web/3", "web/2"]
    );
    assert_eq!(refs(store.list_recent(Some("api"), 5).await.unwrap_or_default()), ["api/1"]);
    assert_eq!(
        refs(store.list_recent(Some("none"), 5).await.unwrap_or_default()),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn summaries_are_written_and_replaced() {
    let Some((store, s3, bucket)) = store().await else { return };
    let at = BuildRef::new("web", 4);
    assert_eq!(store.get_summary(&at).await.ok(), Some(None));
    let identity = build("web", 4, "k", 1000).identity;
    let mut summary = kiln_core::build::BuildSummary::new(
        &identity,
        kiln_core::build::Status::Failed,
        1000,
        2000,
    );
    assert!(store.put_summary(&at, &summary).await.is_ok());
    assert_eq!(store.get_summary(&at).await.ok(), Some(Some(summary.clone())));
    summary.initiator = "again".into();
    assert!(store.put_summary(&at, &summary).await.is_ok());
    assert_eq!(
        store.get_summary(&at).await.ok().flatten().map(|s| s.initiator),
        Some("again".into())
    );
    assert_eq!(keys(&s3, &bucket).await, ["builds/web/4/summary.json"]);
    let broken = s3
        .put_object()
        .bucket(&bucket)
        .key("builds/web/5/summary.json")
        .body(b"{}".to_vec().into())
        .send()
        .await;
    assert!(broken.is_ok());
    let e = store.get_summary(&BuildRef::new("web", 5)).await.err();
    assert_eq!(e.map(|e| e.kind), Some(PortErrorKind::Permanent));
}
