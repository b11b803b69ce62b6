//! A repository and a catalog for a `kiln serve` test, and a push delivery for its head.

use std::path::PathBuf;

use kiln_tests::GitRepo;
use kiln_tests::git_http::GitHttp;
pub use kiln_tests::serve::Serve;

/// A temporary installation: a git repository `octo/repo`, a catalog, a data directory.
pub struct Site {
    /// Keeps the directory.
    pub dir: tempfile::TempDir,
    /// Serves the repository over git's smart HTTP.
    pub git: GitHttp,
    /// The repository.
    pub repo: GitRepo,
    /// Its head.
    pub sha: String,
}

impl Site {
    /// A repository whose first commit holds `files`, and a catalog of one project `app`
    /// building it on push, with `extra` YAML lines added to the project.
    pub fn new(files: &[(&str, &str)], extra: &str) -> Self {
        Self::with_events(files, "PUSH", extra)
    }

    /// As [`Site::new`], the project building on the CodeBuild `events` given (`PUSH,
    /// PULL_REQUEST_CREATED`).
    pub fn with_events(files: &[(&str, &str)], events: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = GitRepo::new(dir.path(), "octo/repo");
        let sha = repo.commit(files, "first commit");
        let git = GitHttp::start(&repo.root());
        let catalog = format!(
            "- name: app\n  source: {{type: GITHUB, location: '{}'}}\n  webhook:\n    filterGroups:\n      - - {{type: EVENT, pattern: '{events}'}}\n{extra}",
            git.url("octo/repo")
        );
        std::fs::write(dir.path().join("catalog.yml"), catalog).expect("catalog");
        Self { dir, git, repo, sha }
    }

    /// The catalog file.
    pub fn catalog(&self) -> PathBuf {
        self.dir.path().join("catalog.yml")
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A file beside the catalog.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `kiln serve` on this site; GitHub's API is `github_api` (a fake GitHub on
    /// loopback, whose host is the repository's), unless `args` names another.
    pub fn serve(&self, env: &[(&str, &str)], args: &[&str]) -> Serve {
        let mut all = vec!["--github-api", "http://127.0.0.1:9"];
        if args.contains(&"--github-api") {
            all.clear();
        }
        all.extend_from_slice(args);
        Serve::start(&self.catalog(), &self.data(), env, &all)
    }

    /// A push of `sha` to `main`.
    pub fn push(&self, sha: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "ref": "refs/heads/main",
            "before": "0000000000000000000000000000000000000000",
            "after": sha,
            "created": true,
            "repository": {"full_name": "octo/repo", "clone_url": self.git.url("octo/repo")},
            "sender": {"id": 583231, "login": "octocat"},
            "head_commit": {"id": sha, "message": "first commit"},
            "commits": [{"added": ["buildspec.yml"], "modified": [], "removed": []}],
        }))
        .expect("json")
    }
}

/// Headless Chromium, when installed (`scripts/install-chromium`); `None` with a message when it
/// is not, or a panic when `CI=true` (CI must run the browser tests).
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("KILN_TEST_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/chromium/chromium")
    });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "chromium is not installed at {}: scripts/test installs it",
        path.display()
    );
    eprintln!(
        "skipping: chromium is not installed at {} (run scripts/install-chromium)",
        path.display()
    );
    None
}

/// Runs headless Chromium on `url` with `args` (`--dump-dom`, `--screenshot=FILE`); returns
/// its stdout.
pub fn browse(chromium: &std::path::Path, url: &str, args: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("profile");
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
