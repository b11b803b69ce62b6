//! The build pages as a person sees them, in headless Chromium: the build list, a build's page
//! with its phases, log, artifacts (S3 key and local path), failed test cases first and
//! exported variables, the badge; nothing unescaped, no secret.

use std::time::Duration;

use crate::support::{Site, browse, chromium};

const BUILDSPEC: &str = r#"version: 0.2
env:
  exported-variables: [APP_VERSION]
  parameter-store:
    TOKEN: /app/token
phases:
  build:
    commands:
      - echo "token is $TOKEN"
      - echo '<script>alert("x")</script>'
      - export APP_VERSION=3.1.4
      - mkdir -p dist && echo bin > dist/app.bin
      - printf '<testsuite name="s"><testcase classname="pkg" name="passes"/><testcase classname="pkg" name="breaks"><failure message="expected 1, got 2">trace</failure></testcase></testsuite>' > junit.xml
artifacts:
  files: [dist/app.bin]
reports:
  unit:
    files: [junit.xml]
"#;

#[test]
fn a_build_page_shows_what_a_person_needs_and_nothing_secret() {
    let Some(chromium) = chromium() else { return };
    let site = Site::new(
        &[("buildspec.yml", BUILDSPEC)],
        "  artifacts: {type: S3, location: bkt, name: out, packaging: NONE}\n",
    );
    let secrets = site.path("secrets.env");
    std::fs::write(&secrets, "/app/token=hunter2-very-secret\n").expect("secrets");
    let serve = site.serve(&[], &["--secrets", secrets.to_str().expect("utf-8")]);
    let reply = serve.deliver("push", "page-1", &site.push(&site.sha));
    assert_eq!(reply.status, 202, "{}", reply.text());
    let build = serve.wait_for("app", 1, Duration::from_secs(60));
    assert_eq!(build["buildStatus"], "SUCCEEDED", "{build}");

    let base = format!("http://{}", serve.addr);
    let dom = browse(&chromium, &format!("{base}/builds/app/1"), &["--dump-dom"]);
    for seen in [
        "app #1",
        "SUCCEEDED",
        "DOWNLOAD_SOURCE",
        "UPLOAD_ARTIFACTS",
        &site.sha[..12],
        "refs/heads/main",
        "page-1",
        "s3://bkt/out",
        "APP_VERSION",
        "3.1.4",
        "pkg.breaks",
        "expected 1, got 2",
        "token is ***",
        "Entering phase BUILD",
    ] {
        assert!(dom.contains(seen), "the page does not show {seen:?}:\n{dom}");
    }
    assert!(
        dom.contains(&format!(
            "{}/s3/bkt/out",
            site.data().canonicalize().expect("data").display()
        )),
        "local path:\n{dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt;"),
        "the log is escaped:\n{dom}"
    );
    assert!(!dom.contains("hunter2"), "a secret reached the page");
    assert!(!dom.contains("http-equiv=\"refresh\""), "a finished build does not refresh");

    let shot = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("build-page.png");
    browse(
        &chromium,
        &format!("{base}/builds/app/1"),
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,1600"],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
    println!("screenshot of the build page: {}", shot.display());

    let list = browse(&chromium, &format!("{base}/"), &["--dump-dom"]);
    assert!(list.contains("href=\"http://") && list.contains("/builds/app/1\""), "{list}");
    let badge = serve.get("/badges/app.svg");
    assert_eq!(badge.header("content-type"), Some("image/svg+xml"));
    assert!(badge.text().contains(">passing<"), "{}", badge.text());
    assert!(serve.get("/badges/app.svg?branch=other").text().contains(">unknown<"));
    let log = serve.get("/builds/app/1/log");
    assert_eq!(log.header("x-kiln-build-ended"), Some("1"));
    assert!(log.text().contains("token is ***") && !log.text().contains("hunter2"));
    assert_eq!(serve.get("/healthz").status, 200);
    assert_eq!(serve.get("/builds/app/99").status, 404);
}

#[test]
fn a_running_build_page_grows_its_log_without_a_reload() {
    let Some(chromium) = chromium() else { return };
    let site = Site::new(
        &[(
            "buildspec.yml",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - for i in 1 2 3 4 5 6 7 8; do echo tick-$i; sleep 0.5; done\n",
        )],
        "  artifacts: {type: NO_ARTIFACTS}\n",
    );
    let serve = site.serve(&[], &[]);
    assert_eq!(serve.deliver("push", "live-1", &site.push(&site.sha)).status, 202);
    let started = std::time::Instant::now();
    while !serve.get("/builds/app/1/log").text().contains("tick-1") {
        assert!(started.elapsed() < Duration::from_secs(30), "the build never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let page = serve.get("/builds/app/1").text();
    assert!(page.contains("http-equiv=\"refresh\""), "without JavaScript the page refreshes");
    assert!(!page.contains("tick-8"));
    let dom = browse(
        &chromium,
        &format!("http://{}/builds/app/1", serve.addr),
        &["--dump-dom", "--virtual-time-budget=8000"],
    );
    assert!(
        dom.contains("tick-8") || dom.contains("SUCCEEDED"),
        "the live view followed the log:\n{dom}"
    );
    serve.wait_for("app", 1, Duration::from_secs(60));
}
