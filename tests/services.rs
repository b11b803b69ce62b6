//! The services end to end on one machine: a signed delivery through `service::intake`, the
//! build run by the real agent in the in-process runner from a git repository fetched at the
//! delivery's commit, `service::finalize`, and the commit statuses in order; the sweeper; every
//! accepted build ending with exactly one terminal status.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kiln_agent::Agent;
use kiln_agent::output::LogSink;
use kiln_core::build::{Build, BuildDescription, BuildRef, BuildState, TaskHandle};
use kiln_core::ports::{
    BuildStore, PortError, PortErrorKind, PortFuture, SystemClock, TaskRunner, TaskState,
};
use kiln_core::project::load_catalog;
use kiln_core::service::{self, IntakeReply, Ports, Projects, Settings, SweepPolicy};
use kiln_core::status::{CommitState, PageLinks};
use kiln_core::webhook::{DeliveryHeaders, sign};
use kiln_local::{
    FileSecretStore, FsBuildStore, FsObjectStore, InProcessTaskRunner, LocalSourceHost,
    RecordingBuildEvents, RecordingStatusReporter,
};
use kiln_tests::GitRepo;
use kiln_tests::git_http::GitHttp;
use secrecy::SecretString;

const SECRET: &str = "s3cret-webhook";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

struct Installation {
    _dir: tempfile::TempDir,
    _git: GitHttp,
    url: String,
    _repo: GitRepo,
    sha: String,
    data: PathBuf,
    builds: Arc<FsBuildStore>,
    runner: Arc<InProcessTaskRunner>,
    statuses: RecordingStatusReporter,
    events: RecordingBuildEvents,
    source: LocalSourceHost,
    projects: Projects,
    settings: Settings,
}

impl Installation {
    fn new(buildspec: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = GitRepo::new(dir.path(), "octo/repo");
        let sha = repo.commit(&[("buildspec.yml", buildspec), ("README", "hi\n")], "first");
        let git = GitHttp::start(&repo.root());
        let url = git.url("octo/repo");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data");
        let catalog = load_catalog(&format!(
            "- name: app\n  source: {{type: GITHUB, location: '{}'}}\n  artifacts: {{type: NO_ARTIFACTS}}\n  webhook:\n    filterGroups:\n      - - {{type: EVENT, pattern: PUSH}}\n",
            url
        ))
        .expect("catalog");
        let builds = Arc::new(FsBuildStore::new(&data));
        let agent = Arc::new(Agent::new(
            Arc::new(FsObjectStore::new(&data)),
            Arc::new(FileSecretStore::empty()),
            LogSink::new(&[], vec![Box::new(std::io::sink())]),
        ));
        let runner = Arc::new(InProcessTaskRunner::new(agent, builds.clone(), &data));
        let settings = Settings {
            pages: Some(PageLinks { base_url: "https://kiln.example".into(), signing_key: None }),
            ..Settings::local(None, None)
        };
        Self {
            source: LocalSourceHost::new(Some(repo.work.clone()), None),
            _repo: repo,
            sha,
            data,
            builds,
            runner,
            statuses: RecordingStatusReporter::new(),
            events: RecordingBuildEvents::new(),
            projects: Projects::with_host(catalog, "127.0.0.1").expect("projects"),
            settings,
            _git: git,
            url,
            _dir: dir,
        }
    }

    fn ports<'a>(&'a self, runner: &'a dyn TaskRunner) -> Ports<'a> {
        Ports {
            builds: self.builds.as_ref(),
            runner,
            statuses: &self.statuses,
            source: &self.source,
            clock: &SystemClock,
            events: &self.events,
        }
    }

    fn push(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "ref": "refs/heads/main",
            "before": "0000000000000000000000000000000000000000",
            "after": self.sha,
            "created": true,
            "repository": {"full_name": "octo/repo", "clone_url": self.url},
            "sender": {"id": 583231, "login": "octocat"},
            "head_commit": {"message": "first"},
            "commits": [{"added": ["buildspec.yml"], "modified": [], "removed": []}],
        }))
        .expect("json")
    }

    /// Delivers `body` signed with `secret` through intake with `runner`, then waits for and
    /// finalizes every task it started in the in-process runner, as `kiln serve` does when a
    /// child exits.
    fn deliver(
        &self,
        runner: &dyn TaskRunner,
        body: &[u8],
        event: &str,
        delivery: &str,
        secret: &str,
    ) -> IntakeReply {
        let signature = sign(body, &SecretString::from(secret.to_owned()));
        let headers = DeliveryHeaders::from_pairs([
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery),
            ("User-Agent", "GitHub-Hookshot/951dca1"),
            ("X-Hub-Signature-256", signature.as_str()),
            ("Content-Type", "application/json"),
        ]);
        runtime().block_on(async {
            let ports = self.ports(runner);
            let secret = SecretString::from(SECRET.to_owned());
            let reply =
                service::intake(ports, &self.settings, &self.projects, &secret, &headers, body)
                    .await;
            for b in &reply.builds {
                let at = BuildRef::new(b.project.clone(), b.number);
                let record = self.builds.read(&at).await.expect("record");
                if let Some(task) = record.task.as_ref().filter(|t| t.0.starts_with("in-process:"))
                {
                    self.runner.wait(task).await;
                    service::finalize(ports, &at, None).await.expect("finalized");
                }
            }
            reply
        })
    }

    fn record(&self, number: u64) -> Build {
        runtime().block_on(self.builds.read(&BuildRef::new("app", number))).expect("record")
    }

    fn states(&self) -> Vec<CommitState> {
        self.statuses.posted().iter().map(|s| s.state).collect()
    }
}

const OK: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - test -f README\n      - git rev-parse HEAD\n";

#[test]
fn a_signed_push_builds_the_commit_and_ends_with_success_after_pending() {
    let i = Installation::new(OK);
    let reply = i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", SECRET);
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.builds.len(), 1);
    assert_eq!(reply.builds[0].number, 1);
    assert_eq!(reply.builds[0].url.as_deref(), Some("https://kiln.example/builds/app/1"));
    let record = i.record(1);
    assert_eq!(record.state, BuildState::Succeeded, "{record:?}");
    assert_eq!(record.resolved_source_version.as_deref(), Some(i.sha.as_str()));
    assert_eq!(i.states(), [CommitState::Pending, CommitState::Success]);
    let posted = i.statuses.posted();
    assert!(
        posted.iter().all(|s| s.commit.as_str() == i.sha && s.repository.as_str() == "octo/repo")
    );
    assert_eq!(posted[0].context, "AWS CodeBuild us-east-1 (app)");
    assert_eq!(posted[0].description, "Build started for project app");
    assert_eq!(posted[1].description, "Build succeeded for project app");
    assert_eq!(posted[1].target_url.as_deref(), Some("https://kiln.example/builds/app/1"));
    let announced: Vec<String> = i.events.published().into_iter().map(|c| c.build_status).collect();
    assert_eq!(announced, ["IN_PROGRESS", "SUCCEEDED"], "one change per transition");
    let summary = runtime().block_on(i.builds.get_summary(&BuildRef::new("app", 1))).expect("read");
    let summary = summary.expect("the agent's summary");
    assert_eq!(summary.resolved_source_version.as_deref(), Some(i.sha.as_str()));
    let src = i.data.join("builds/app/1/src");
    assert!(src.join(".git").is_dir(), "a git work tree");
    assert!(
        !std::fs::read_to_string(src.join(".git/config")).expect("config").contains("extraHeader")
    );
}

#[test]
fn a_redelivery_answers_as_the_first_time_and_starts_nothing() {
    let i = Installation::new(OK);
    let first = i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", SECRET);
    let again = i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", SECRET);
    assert_eq!(first, again);
    assert_eq!(i.states().len(), 2, "no status for the redelivery");
    let other = i.deliver(i.runner.as_ref(), &i.push(), "push", "d-2", SECRET);
    assert_eq!(other.builds[0].number, 2, "another delivery is another build");
}

#[test]
fn a_wrong_or_missing_signature_is_refused_before_anything_happens() {
    let i = Installation::new(OK);
    let reply = i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", "not-the-secret");
    assert_eq!(reply.status, 401);
    assert!(reply.builds.is_empty());
    assert!(i.statuses.posted().is_empty());
    let open = runtime().block_on(i.builds.list_recent(None, 10)).expect("list");
    assert!(open.is_empty(), "no record for a refused delivery");
}

#[test]
fn a_ping_is_answered_with_nothing_to_build() {
    let i = Installation::new(OK);
    let reply = i.deliver(
        i.runner.as_ref(),
        br#"{"zen": "Keep it simple.", "hook_id": 1}"#,
        "ping",
        "d-p",
        SECRET,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.ignored.is_some());
    assert!(i.statuses.posted().is_empty());
}

#[test]
fn an_invalid_buildspec_fails_with_its_line_and_starts_no_task() {
    let i = Installation::new("version: 0.2\nphases:\n  biuld:\n    commands:\n      - echo hi\n");
    let reply = i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", SECRET);
    assert_eq!(reply.status, 202);
    let record = i.record(1);
    assert_eq!(record.state, BuildState::Failed);
    assert!(record.task.is_none(), "no task for an invalid buildspec");
    let posted = i.statuses.posted();
    assert_eq!(i.states(), [CommitState::Failure], "{posted:?}");
    assert!(posted[0].description.contains("buildspec.yml:3:"), "{}", posted[0].description);
}

#[test]
fn a_failing_build_ends_with_failure_and_its_reason() {
    let i = Installation::new("version: 0.2\nphases:\n  build:\n    commands:\n      - exit 7\n");
    i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", SECRET);
    assert_eq!(i.states(), [CommitState::Pending, CommitState::Failure]);
    let description = &i.statuses.posted()[1].description;
    assert!(description.starts_with("Build failed for project app: BUILD: "), "{description}");
    assert!(description.chars().count() <= 140);
}

/// A runner whose every start fails as the given kind, counting calls.
struct FailingRunner(PortErrorKind, Mutex<usize>);

impl TaskRunner for FailingRunner {
    fn start<'a>(&'a self, _: &'a BuildDescription, _: &'a str) -> PortFuture<'a, TaskHandle> {
        if let Ok(mut n) = self.1.lock() {
            *n += 1;
        }
        let e = PortError::new(self.0, "run task");
        Box::pin(async move { Err(e) })
    }
    fn stop<'a>(&'a self, _: &'a TaskHandle, _: &'a str) -> PortFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn describe<'a>(&'a self, _: &'a TaskHandle) -> PortFuture<'a, TaskState> {
        Box::pin(async { Ok(TaskState::Unknown) })
    }
}

#[test]
fn a_failed_launch_never_leaves_a_status_pending() {
    let i = Installation::new(OK);
    let runner = FailingRunner(PortErrorKind::Permanent, Mutex::new(0));
    let reply = i.deliver(&runner, &i.push(), "push", "d-1", SECRET);
    assert_eq!(reply.status, 202);
    let record = i.record(1);
    assert_eq!(record.state, BuildState::Fault);
    assert!(
        record.reason.as_deref().is_some_and(|r| r.starts_with("could not start the build")),
        "{record:?}"
    );
    assert_eq!(i.states(), [CommitState::Pending, CommitState::Error]);
    assert_eq!(record.status_report.and_then(|r| r.posted), Some(CommitState::Error));
}

#[test]
fn a_final_status_github_refused_is_posted_again_by_the_sweeper() {
    let i = Installation::new(OK);
    i.statuses.fail_next([PortErrorKind::Unavailable, PortErrorKind::Unavailable]);
    i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", SECRET);
    let record = i.record(1);
    assert_eq!(record.state, BuildState::Succeeded);
    assert_eq!(i.states(), [], "pending and success were both refused");
    let report =
        runtime().block_on(service::sweep(i.ports(i.runner.as_ref()), &SweepPolicy::default()));
    assert_eq!(report.reposted, [BuildRef::new("app", 1)]);
    assert_eq!(i.states(), [CommitState::Success], "the final state only, never a late pending");
    let again =
        runtime().block_on(service::sweep(i.ports(i.runner.as_ref()), &SweepPolicy::default()));
    assert!(again.reposted.is_empty(), "confirmed statuses are not posted again");
}

#[test]
fn finalizing_twice_changes_nothing_and_posts_nothing() {
    let i = Installation::new(OK);
    i.deliver(i.runner.as_ref(), &i.push(), "push", "d-1", SECRET);
    let before = i.record(1);
    let posted = i.statuses.posted().len();
    let after = runtime()
        .block_on(service::finalize(i.ports(i.runner.as_ref()), &BuildRef::new("app", 1), None))
        .expect("finalized");
    assert_eq!(after, before);
    assert_eq!(i.statuses.posted().len(), posted);
}

/// A runner that starts nothing and knows of no task (a server that restarted).
struct AmnesicRunner;

impl TaskRunner for AmnesicRunner {
    fn start<'a>(&'a self, d: &'a BuildDescription, _: &'a str) -> PortFuture<'a, TaskHandle> {
        let handle = TaskHandle(format!("gone:{}", d.build.uuid));
        Box::pin(async move { Ok(handle) })
    }
    fn stop<'a>(&'a self, _: &'a TaskHandle, _: &'a str) -> PortFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn describe<'a>(&'a self, _: &'a TaskHandle) -> PortFuture<'a, TaskState> {
        Box::pin(async { Ok(TaskState::Unknown) })
    }
}

#[test]
fn builds_whose_task_was_lost_end_with_error_on_sweep() {
    let i = Installation::new(OK);
    let reply = i.deliver(&AmnesicRunner, &i.push(), "push", "d-1", SECRET);
    assert_eq!(reply.status, 202);
    assert_eq!(i.record(1).state, BuildState::InProgress);
    assert_eq!(i.states(), [CommitState::Pending]);
    let policy = SweepPolicy { lost_reason: "kiln restarted".into(), ..SweepPolicy::default() };
    let report = runtime().block_on(service::sweep(i.ports(&AmnesicRunner), &policy));
    assert_eq!(report.finalized, [BuildRef::new("app", 1)]);
    let record = i.record(1);
    assert_eq!(record.state, BuildState::Fault);
    assert_eq!(i.states(), [CommitState::Pending, CommitState::Error]);
    assert_eq!(
        i.statuses.posted()[1].description,
        "Build could not run for project app: kiln restarted"
    );
    let open = runtime().block_on(i.builds.list_open()).expect("open");
    assert!(open.is_empty());
}

#[test]
fn a_newer_push_supersedes_the_older_build_of_the_branch_when_asked() {
    let i = Installation::new("version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 30\n");
    let catalog = load_catalog(&format!(
        "- name: app\n  source: {{type: GITHUB, location: '{}'}}\n  artifacts: {{type: NO_ARTIFACTS}}\n  kiln: {{supersede: true}}\n  webhook:\n    filterGroups:\n      - - {{type: EVENT, pattern: PUSH}}\n",
        i.url
    ))
    .expect("catalog");
    let i = Installation {
        projects: Projects::with_host(catalog, "127.0.0.1").expect("projects"),
        ..i
    };
    let body = i.push();
    let rt = runtime();
    let headers = |delivery: &str| {
        let signature = sign(&body, &SecretString::from(SECRET.to_owned()));
        DeliveryHeaders::from_pairs([
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", signature.as_str()),
            ("Content-Type", "application/json"),
        ])
    };
    let secret = SecretString::from(SECRET.to_owned());
    let ports = i.ports(i.runner.as_ref());
    let started = std::time::Instant::now();
    rt.block_on(async {
        let first =
            service::intake(ports, &i.settings, &i.projects, &secret, &headers("d-1"), &body).await;
        assert_eq!(first.builds[0].number, 1);
        let second =
            service::intake(ports, &i.settings, &i.projects, &secret, &headers("d-2"), &body).await;
        assert_eq!(second.builds[0].number, 2);
        let older = i.builds.read(&BuildRef::new("app", 1)).await.expect("record");
        let task = older.task.expect("the older build had started");
        i.runner.wait(&task).await;
        service::finalize(ports, &BuildRef::new("app", 1), None).await.expect("finalized");
        i.runner.stop_all();
    });
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "the older build was stopped, not waited for"
    );
    let older = i.record(1);
    assert_eq!(older.state, BuildState::Stopped, "{older:?}");
    let posted = i.statuses.posted();
    let error = posted.iter().find(|s| s.state == CommitState::Error).expect("an error status");
    assert!(
        error.description.starts_with("Build stopped for project app: superseded by "),
        "{}",
        error.description
    );
}
