//! A Lambda Runtime API emulator for end-to-end tests and benchmarks: the three routes a
//! function's runtime calls (`GET /2018-06-01/runtime/invocation/next`, `POST
//! …/invocation/{id}/response` and `…/error`, and `…/init/error`) on a free loopback port, and
//! a function binary run behind it with `AWS_LAMBDA_RUNTIME_API` and the variables Lambda sets.
//!
//! [`RuntimeApi::invoke`] queues an event and blocks until the function answers it, as Lambda
//! does for a synchronous invocation; the caller plays EventBridge, CloudWatch Logs or a
//! Function URL by choosing the event, and plays Lambda's retries by invoking again.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// How a function answered an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `…/response`: the function's answer.
    Response(serde_json::Value),
    /// `…/error`: the Diagnostic it failed with.
    Error {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        error_message: String,
    },
}

impl Outcome {
    /// The answer, panicking with the error when the invocation failed.
    pub fn response(self) -> serde_json::Value {
        match self {
            Self::Response(v) => v,
            Self::Error { error_type, error_message } => {
                panic!("the invocation failed: {error_type}: {error_message}")
            }
        }
    }
}

struct Invocation {
    id: String,
    event: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<Invocation>>,
    arrived: tokio::sync::Notify,
    waiting: Mutex<HashMap<String, std::sync::mpsc::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
    next: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running Runtime API; stops when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl RuntimeApi {
    /// An emulator on a free port of `127.0.0.1`.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the emulator's runtime");
        let shared = Arc::new(Shared::default());
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the emulator");
        let addr = listener.local_addr().expect("the emulator's address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, shared, _runtime: runtime }
    }

    /// `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// What the function posted to `…/init/error`, if it did.
    pub fn init_error(&self) -> Option<String> {
        lock(&self.shared.init_error).clone()
    }

    /// Queues `event`; the answer arrives on the receiver.
    pub fn submit(&self, event: &serde_json::Value) -> std::sync::mpsc::Receiver<Outcome> {
        let n = self.shared.next.fetch_add(1, Ordering::SeqCst);
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let (tx, rx) = std::sync::mpsc::channel();
        lock(&self.shared.waiting).insert(id.clone(), tx);
        let body = serde_json::to_vec(event).unwrap_or_default();
        lock(&self.shared.queue).push_back(Invocation { id, event: body });
        self.shared.arrived.notify_one();
        rx
    }

    /// Queues `event` and waits at most `timeout` for the answer (`None` when none came).
    pub fn invoke_within(&self, event: &serde_json::Value, timeout: Duration) -> Option<Outcome> {
        self.submit(event).recv_timeout(timeout).ok()
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    loop {
        let notified = shared.arrived.notified();
        if let Some(inv) = lock(&shared.queue).pop_front() {
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() + 60_000);
            return (
                StatusCode::OK,
                [
                    ("content-type", "application/json".to_owned()),
                    ("lambda-runtime-aws-request-id", inv.id.clone()),
                    ("lambda-runtime-deadline-ms", deadline.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:kiln-test".to_owned(),
                    ),
                    ("lambda-runtime-trace-id", format!("Root=1-00000000-{}", inv.id)),
                ],
                inv.event,
            )
                .into_response();
        }
        notified.await;
    }
}

fn answer(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match lock(&shared.waiting).remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    answer(&shared, &id, Outcome::Response(value))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let header = headers.get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok());
    let error_type = json["errorType"].as_str().or(header).unwrap_or("unhandled").to_owned();
    let error_message = json["errorMessage"].as_str().unwrap_or_default().to_owned();
    answer(&shared, &id, Outcome::Error { error_type, error_message })
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *lock(&shared.init_error) = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// A function binary running behind its own [`RuntimeApi`]; killed when dropped.
pub struct Function {
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    api: RuntimeApi,
    child: Child,
    output: Arc<Mutex<String>>,
    /// When the process was started.
    pub started: Instant,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Function {
    /// Starts `binary` as function `name` with `env` (and the Lambda variables), its stdout
    /// and stderr kept for [`Function::output`].
    pub fn start(name: &str, binary: &Path, env: &[(String, String)]) -> Self {
        let api = RuntimeApi::start();
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0000")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let started = Instant::now();
        let mut child =
            command.spawn().unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut out = lock(&sink);
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        Self { name: name.to_owned(), api, child, output, started }
    }

    /// Invokes the function with `event` and waits for its answer (at most a minute).
    ///
    /// # Panics
    /// When the function exits or does not answer, with what it printed.
    pub fn invoke(&mut self, event: &serde_json::Value) -> Outcome {
        let deadline = Instant::now() + Duration::from_secs(60);
        let answer = self.api.submit(event);
        loop {
            if let Ok(outcome) = answer.recv_timeout(Duration::from_millis(50)) {
                return outcome;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) instead of answering; init error {:?}; output:\n{}",
                    self.name,
                    self.api.init_error(),
                    self.output()
                );
            }
            assert!(Instant::now() < deadline, "{} did not answer: {}", self.name, self.output());
        }
    }

    /// What the function printed so far (its JSON logs).
    pub fn output(&self) -> String {
        lock(&self.output).clone()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `binary`, started with no configuration but a region and the Runtime API, reported
/// to `/init/error` (a Diagnostic's JSON).
///
/// # Panics
/// When it does not exit within a minute with a failure, or reports nothing.
pub fn init_error_of(binary: impl AsRef<Path>) -> serde_json::Value {
    let binary = binary.as_ref();
    let api = RuntimeApi::start();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{} did not exit", binary.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "{} exits with a failure", binary.display());
    let reported =
        api.init_error().unwrap_or_else(|| panic!("{} reported no init error", binary.display()));
    serde_json::from_str(&reported).unwrap_or_else(|e| panic!("{e}: {reported}"))
}
