//! kiln's invariant under injected faults: every build it accepts ends with exactly one
//! terminal commit status, and nothing after it. The real services (`intake`, `launch`,
//! `finalize`, `sweep`) and the real agent run over ports that fail at random — RunTask and
//! DescribeTasks (the task runner), S3 (the build store), GitHub (the status reporter) and
//! EventBridge (the build events) — and the deliveries themselves are lost or retried as
//! Lambda and GitHub do: a webhook answered 5xx is redelivered, a task's STOPPED event is lost
//! or fails and is retried twice. The sweeper then runs on its schedule.
//!
//! "Exactly one terminal status" is what GitHub shows: one terminal state per build, never a
//! `pending` after it. The same terminal state may be posted twice — when GitHub took a post
//! but the store failed to record that it did, the sweeper posts it again (GitHub keeps one
//! status per context, so that is harmless); a second, different terminal state never is.
//!
//! Faults are drawn from a seeded generator and bounded per run, so every failure is
//! reproducible: `KILN_FAULT_SEED=N` runs only seed N.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kiln_agent::Agent;
use kiln_agent::output::LogSink;
use kiln_core::build::{Build, BuildDescription, BuildRef, BuildSummary, TaskHandle};
use kiln_core::notify::BuildStateChange;
use kiln_core::ports::{
    BuildEvents, BuildStore, CommitStatus, Created, PortError, PortErrorKind, PortFuture,
    StatusReporter, SystemClock, TaskRunner, TaskState,
};
use kiln_core::project::load_catalog;
use kiln_core::service::{self, Ports, Projects, Settings, SweepPolicy};
use kiln_core::status::{CommitState, PageLinks};
use kiln_core::webhook::{DeliveryHeaders, sign};
use kiln_local::{
    FileSecretStore, FsBuildStore, FsObjectStore, InProcessTaskRunner, LocalSourceHost,
    RecordingBuildEvents, RecordingStatusReporter,
};
use kiln_tests::GitRepo;
use kiln_tests::git_http::GitHttp;
use secrecy::SecretString;

const SECRET: &str = "fault-injection-webhook-secret";
const BUILDSPEC: &str =
    "version: 0.2\nphases:\n  build:\n    commands:\n      - test -f buildspec.yml\n";
/// Deliveries per run.
const DELIVERIES: usize = 4;
/// The most faults one run injects.
const MAX_FAULTS: usize = 14;
/// How often a port call fails while faults are left, in percent.
const FAULT_PERCENT: u64 = 25;
/// Sweeps after the deliveries (the schedule's runs).
const SWEEPS: usize = 8;

/// The seeded source of faults, shared by every faulty port of a run.
struct Faults {
    state: Mutex<u64>,
    left: AtomicUsize,
    injected: Mutex<Vec<&'static str>>,
}

impl Faults {
    fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            left: AtomicUsize::new(MAX_FAULTS),
            injected: Mutex::new(Vec::new()),
        }
    }

    fn next(&self) -> u64 {
        let mut s = self.state.lock().expect("rng");
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    /// Whether the call at `site` fails (with probability [`FAULT_PERCENT`] while faults are
    /// left).
    fn strike(&self, site: &'static str) -> bool {
        if self.left.load(Ordering::SeqCst) == 0 || self.next() % 100 >= FAULT_PERCENT {
            return false;
        }
        self.left.fetch_sub(1, Ordering::SeqCst);
        self.injected.lock().expect("log").push(site);
        true
    }

    fn fail<T: Send + 'static>(&self, site: &'static str) -> Option<PortFuture<'static, T>> {
        self.strike(site).then(|| {
            let kind = if self.next().is_multiple_of(4) {
                PortErrorKind::Throttled
            } else {
                PortErrorKind::Unavailable
            };
            let error = PortError::new(kind, site);
            Box::pin(async move { Err(error) }) as PortFuture<'static, T>
        })
    }
}

/// S3, failing at random.
struct FaultyStore {
    inner: Arc<FsBuildStore>,
    faults: Arc<Faults>,
}

impl BuildStore for FaultyStore {
    fn claim_number<'a>(&'a self, project: &'a str) -> PortFuture<'a, u64> {
        self.faults.fail("s3 claim number").unwrap_or_else(|| self.inner.claim_number(project))
    }
    fn create<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Created> {
        self.faults.fail("s3 create record").unwrap_or_else(|| self.inner.create(build))
    }
    fn find<'a>(&'a self, key: &'a str) -> PortFuture<'a, Option<Build>> {
        self.faults.fail("s3 find record").unwrap_or_else(|| self.inner.find(key))
    }
    fn read<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Build> {
        self.faults.fail("s3 read record").unwrap_or_else(|| self.inner.read(build))
    }
    fn update<'a>(&'a self, build: &'a Build) -> PortFuture<'a, Build> {
        self.faults.fail("s3 update record").unwrap_or_else(|| self.inner.update(build))
    }
    fn list_open<'a>(&'a self) -> PortFuture<'a, Vec<Build>> {
        self.faults.fail("s3 list open").unwrap_or_else(|| self.inner.list_open())
    }
    fn list_recent<'a>(
        &'a self,
        project: Option<&'a str>,
        limit: usize,
    ) -> PortFuture<'a, Vec<Build>> {
        self.faults.fail("s3 list recent").unwrap_or_else(|| self.inner.list_recent(project, limit))
    }
    fn put_summary<'a>(
        &'a self,
        build: &'a BuildRef,
        summary: &'a BuildSummary,
    ) -> PortFuture<'a, ()> {
        self.faults.fail("s3 put summary").unwrap_or_else(|| self.inner.put_summary(build, summary))
    }
    fn get_summary<'a>(&'a self, build: &'a BuildRef) -> PortFuture<'a, Option<BuildSummary>> {
        self.faults.fail("s3 get summary").unwrap_or_else(|| self.inner.get_summary(build))
    }
}

/// ECS, failing at random.
struct FaultyRunner {
    inner: Arc<InProcessTaskRunner>,
    faults: Arc<Faults>,
}

impl TaskRunner for FaultyRunner {
    fn start<'a>(
        &'a self,
        description: &'a BuildDescription,
        key: &'a str,
    ) -> PortFuture<'a, TaskHandle> {
        self.faults.fail("ecs run task").unwrap_or_else(|| self.inner.start(description, key))
    }
    fn stop<'a>(&'a self, task: &'a TaskHandle, reason: &'a str) -> PortFuture<'a, ()> {
        self.faults.fail("ecs stop task").unwrap_or_else(|| self.inner.stop(task, reason))
    }
    fn describe<'a>(&'a self, task: &'a TaskHandle) -> PortFuture<'a, TaskState> {
        self.faults.fail("ecs describe tasks").unwrap_or_else(|| self.inner.describe(task))
    }
}

/// GitHub, refusing posts at random (a refused post is not recorded: GitHub has not got it).
struct FaultyStatuses {
    inner: RecordingStatusReporter,
    faults: Arc<Faults>,
}

impl StatusReporter for FaultyStatuses {
    fn post<'a>(&'a self, status: &'a CommitStatus) -> PortFuture<'a, ()> {
        self.faults.fail("github post status").unwrap_or_else(|| self.inner.post(status))
    }
}

/// EventBridge, failing at random.
struct FaultyEvents {
    inner: RecordingBuildEvents,
    faults: Arc<Faults>,
}

impl BuildEvents for FaultyEvents {
    fn publish<'a>(&'a self, change: &'a BuildStateChange) -> PortFuture<'a, ()> {
        self.faults.fail("eventbridge put events").unwrap_or_else(|| self.inner.publish(change))
    }
}

struct Run {
    _dir: tempfile::TempDir,
    _git: GitHttp,
    url: String,
    sha: String,
    store: Arc<FsBuildStore>,
    tasks: Arc<InProcessTaskRunner>,
    faults: Arc<Faults>,
    builds: FaultyStore,
    runner: FaultyRunner,
    statuses: FaultyStatuses,
    events: FaultyEvents,
    source: LocalSourceHost,
    projects: Projects,
    settings: Settings,
}

impl Run {
    fn new(seed: u64) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = GitRepo::new(dir.path(), "octo/repo");
        let sha = repo.commit(&[("buildspec.yml", BUILDSPEC)], "first");
        let git = GitHttp::start(&repo.root());
        let url = git.url("octo/repo");
        let data: PathBuf = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data");
        let catalog = load_catalog(&format!(
            "- name: app\n  source: {{type: GITHUB, location: '{url}'}}\n  artifacts: {{type: NO_ARTIFACTS}}\n  webhook:\n    filterGroups:\n      - - {{type: EVENT, pattern: PUSH}}\n"
        ))
        .expect("catalog");
        let store = Arc::new(FsBuildStore::new(&data));
        let agent = Arc::new(Agent::new(
            Arc::new(FsObjectStore::new(&data)),
            Arc::new(FileSecretStore::empty()),
            LogSink::new(&[], vec![Box::new(std::io::sink())]),
        ));
        let tasks = Arc::new(InProcessTaskRunner::new(agent, store.clone(), &data));
        let faults = Arc::new(Faults::new(seed));
        Self {
            builds: FaultyStore { inner: store.clone(), faults: faults.clone() },
            runner: FaultyRunner { inner: tasks.clone(), faults: faults.clone() },
            statuses: FaultyStatuses {
                inner: RecordingStatusReporter::new(),
                faults: faults.clone(),
            },
            events: FaultyEvents { inner: RecordingBuildEvents::new(), faults: faults.clone() },
            source: LocalSourceHost::new(Some(repo.work.clone()), None),
            projects: Projects::with_host(catalog, "127.0.0.1").expect("projects"),
            settings: Settings {
                pages: Some(PageLinks {
                    base_url: "https://kiln.example".into(),
                    signing_key: None,
                }),
                ..Settings::local(None, None)
            },
            store,
            tasks,
            faults,
            sha,
            url,
            _git: git,
            _dir: dir,
        }
    }

    fn ports(&self) -> Ports<'_> {
        Ports {
            builds: &self.builds,
            runner: &self.runner,
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

    /// One delivery as GitHub makes it: redelivered (at most twice) while answered 5xx.
    async fn deliver(&self, delivery: &str) {
        let body = self.push();
        let signature = sign(&body, &SecretString::from(SECRET.to_owned()));
        let headers = DeliveryHeaders::from_pairs([
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", signature.as_str()),
            ("Content-Type", "application/json"),
        ]);
        let secret = SecretString::from(SECRET.to_owned());
        for _ in 0..3 {
            let reply = service::intake(
                self.ports(),
                &self.settings,
                &self.projects,
                &secret,
                &headers,
                &body,
            )
            .await;
            if reply.status < 500 {
                return;
            }
        }
    }

    /// Each task's STOPPED event: lost at random, or handled by `finalize` and retried twice
    /// when that failed, as Lambda retries an asynchronous invocation.
    async fn stopped_events(&self) {
        let every = self.store.list_recent(None, 100).await.expect("records");
        for build in every {
            let Some(task) = build.task.clone() else { continue };
            let stop = match self.tasks.wait(&task).await {
                TaskState::Stopped(stop) => Some(stop),
                _ => None,
            };
            if self.faults.strike("event lost") {
                continue;
            }
            for _ in 0..3 {
                if service::finalize(self.ports(), &build.build_ref(), stop.clone()).await.is_ok() {
                    break;
                }
            }
        }
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var("KILN_FAULT_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => (1..=10).collect(),
    }
}

#[test]
fn every_accepted_build_ends_with_exactly_one_terminal_status_whatever_fails() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut injected_total = 0;
    for seed in seeds() {
        let run = Run::new(seed);
        let policy = SweepPolicy { queued_grace_ms: 0, ..SweepPolicy::default() };
        rt.block_on(async {
            for n in 0..DELIVERIES {
                run.deliver(&format!("delivery-{seed}-{n}")).await;
            }
            run.stopped_events().await;
            for _ in 0..SWEEPS {
                service::sweep(run.ports(), &policy).await;
            }
        });
        let injected = run.faults.injected.lock().expect("log").clone();
        injected_total += injected.len();
        let accepted = rt.block_on(run.store.list_recent(None, 100)).expect("records");
        let mut by_page: BTreeMap<String, Vec<CommitState>> = BTreeMap::new();
        for status in run.statuses.inner.posted() {
            let page = status.target_url.clone().unwrap_or_else(|| panic!("seed {seed}: no link"));
            by_page.entry(page).or_default().push(status.state);
        }
        for build in &accepted {
            let page = format!("https://kiln.example/builds/app/{}", build.identity.number);
            let states = by_page.get(&page).cloned().unwrap_or_default();
            let mut terminal: Vec<_> =
                states.iter().filter(|s| **s != CommitState::Pending).collect();
            terminal.dedup();
            assert_eq!(
                terminal.len(),
                1,
                "seed {seed}: build {} ({:?}) got {states:?}; faults {injected:?}",
                build.identity.number,
                build.state
            );
            assert_ne!(states.last(), Some(&CommitState::Pending), "seed {seed}: {states:?}");
            assert!(build.state.is_terminal(), "seed {seed}: {build:?}");
        }
        assert!(
            by_page
                .keys()
                .all(|p| accepted.iter().any(|b| p.ends_with(&format!("/{}", b.identity.number)))),
            "seed {seed}: a status for a build kiln has no record of: {by_page:?}"
        );
        assert!(
            !accepted.is_empty(),
            "seed {seed}: some delivery was accepted; faults {injected:?}"
        );
    }
    assert!(injected_total > seeds().len(), "faults were injected: {injected_total}");
}
