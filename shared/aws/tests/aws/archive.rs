//! `S3LogArchive` and `EventBridgeBuildEvents` against the emulator: the log archive's
//! compare-and-swap with its mark in the object's metadata, and build state changes put on the
//! default bus with the logs filled in from the installation.

use kiln_aws::{EventBridgeBuildEvents, S3LogArchive};
use kiln_core::build::{BuildRef, BuildState, TaskHandle};
use kiln_core::logs::RelayMark;
use kiln_core::notify::BuildStateChange;
use kiln_core::ports::{BuildEvents, LogArchive, PortErrorKind};

use crate::builds::build;
use crate::support;

#[tokio::test]
async fn the_archive_and_its_mark_change_together_by_compare_and_swap() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let bucket = support::bucket(&sdk, "archive").await;
    let archive = S3LogArchive::new(&sdk, &bucket);
    let at = BuildRef::new("web", 3);
    assert_eq!(archive.read(&at).await.expect("read"), None, "no archive yet");
    let mut mark = RelayMark::default();
    mark.remember_batch("31953106606966983378809025079804211143289615424298221568");
    archive.write(&at, b"one\n".to_vec(), &mark, None).await.expect("first write");
    let again = archive.write(&at, b"two\n".to_vec(), &mark, None).await;
    assert_eq!(again.err().map(|e| e.kind), Some(PortErrorKind::Conflict));
    let first = archive.read(&at).await.expect("read").expect("archived");
    assert_eq!(first.text, b"one\n");
    assert_eq!(first.mark, mark);
    mark.progress.completed = 3;
    archive.write(&at, b"one\ntwo\n".to_vec(), &mark, Some(&first.version)).await.expect("swap");
    let stale = archive.write(&at, b"lost\n".to_vec(), &mark, Some(&first.version)).await;
    assert_eq!(stale.err().map(|e| e.kind), Some(PortErrorKind::Conflict));
    let second = archive.read(&at).await.expect("read").expect("archived");
    assert_eq!((second.text.as_slice(), second.mark), (&b"one\ntwo\n"[..], mark));
    let object = kiln_aws::s3_client(&sdk)
        .head_object()
        .bucket(&bucket)
        .key("builds/web/3/build.log")
        .send()
        .await
        .expect("head");
    assert_eq!(object.content_type(), Some("text/plain; charset=utf-8"));
}

#[tokio::test]
async fn state_changes_go_to_the_default_bus_with_their_logs() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let events = EventBridgeBuildEvents::new(&sdk, Some("/kiln/builds".into()));
    let mut b = build("web", 4, "k", 1_700_000_000_000);
    b.state = BuildState::InProgress;
    b.task = Some(TaskHandle("arn:aws:ecs:us-east-1:123456789012:task/kiln/0f0e".into()));
    let change = BuildStateChange::of(&b, None);
    let entry = events.entry(&change).expect("entry");
    assert_eq!(entry.source(), Some("kiln"));
    assert_eq!(entry.detail_type(), Some("Kiln Build State Change"));
    assert_eq!(entry.resources(), [b.identity.arn()]);
    let detail: serde_json::Value =
        serde_json::from_str(entry.detail().unwrap_or_default()).expect("json detail");
    assert_eq!(detail["build-status"], "IN_PROGRESS");
    assert_eq!(detail["additional-information"]["logs"]["group-name"], "/kiln/builds");
    assert_eq!(detail["additional-information"]["logs"]["stream-name"], "web/build/0f0e");
    events.publish(&change).await.expect("put on the default bus");
}
