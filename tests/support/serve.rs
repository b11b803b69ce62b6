//! A real `kiln serve` process for end-to-end tests: started on a free loopback port with a
//! catalog, a data directory and the environment a test gives, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::http::{Response, request};

/// The webhook secret test servers use.
pub const SECRET: &str = "it's a secret to everybody";

/// A running `kiln serve`.
#[derive(Debug)]
pub struct Serve {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// What it printed on stderr so far (its own diagnostics).
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Serve {
    /// Starts `kiln serve --config CATALOG --data-dir DATA --listen 127.0.0.1:0` with `env` and
    /// `args`, and waits until it listens.
    pub fn start(catalog: &Path, data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut cmd = crate::kiln();
        cmd.arg("serve")
            .arg("--config")
            .arg(catalog)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("KILN_WEBHOOK_SECRET", SECRET)
            .env("KILN_AGENT_BINARY", crate::workspace_binary("kiln-agent"))
            .env_remove("GITHUB_TOKEN")
            .env_remove("KILN_GITHUB_APP_ID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start kiln serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or_default().to_owned();
                    let _ = tx.send(addr);
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a.parse().expect("an address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "kiln serve did not start: {}",
                    log.lock().map(|s| s.clone()).unwrap_or_default()
                );
            }
        };
        Self { child, addr, data_dir: data_dir.to_path_buf(), stderr: log }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        request(self.addr, "GET", path, &[], b"").expect("GET")
    }

    /// A signed delivery of `event` with `body` and delivery id `delivery`.
    pub fn deliver(&self, event: &str, delivery: &str, body: &[u8]) -> Response {
        let signature = kiln_core::webhook::sign(body, &SecretString::from(SECRET.to_owned()));
        self.deliver_signed(event, delivery, body, &signature)
    }

    /// A delivery with the given signature header.
    pub fn deliver_signed(
        &self,
        event: &str,
        delivery: &str,
        body: &[u8],
        signature: &str,
    ) -> Response {
        let mut headers = vec![
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery),
            ("User-Agent", "GitHub-Hookshot/044aadd"),
            ("Content-Type", "application/json"),
        ];
        if !signature.is_empty() {
            headers.push(("X-Hub-Signature-256", signature));
        }
        request(self.addr, "POST", "/webhook", &headers, body).expect("POST /webhook")
    }

    /// Waits until build `number` of `project` has ended; returns its JSON (`/api/builds/…`).
    pub fn wait_for(&self, project: &str, number: u64, timeout: Duration) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let r = self.get(&format!("/api/builds/{project}/{number}"));
            let json = r.json();
            if r.status == 200 && json["buildComplete"] == true {
                return json;
            }
            assert!(
                started.elapsed() < timeout,
                "build {project} #{number} did not end: {}",
                r.text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server with SIGKILL (as a crash would).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}
