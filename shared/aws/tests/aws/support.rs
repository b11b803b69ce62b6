//! The AWS emulator the tests run against (moto's server), and helpers to reach it.
//!
//! `KILN_TEST_MOTO_URL` names a running server (scripts/test starts one). Without it a test
//! fails with a clear message when `CI=true`, and otherwise starts its own `moto_server` on a
//! free loopback port if one is found (on `PATH`, or installed by scripts/test under
//! `.tools/`), or skips with the reason printed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;

/// The test credentials: distinctive, so a test can assert they never reach a task.
pub const ACCESS_KEY: &str = "AKIDKILNTESTACCESS";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "kiln-test-secret-key-never-in-a-task";
/// The region every test uses.
pub const REGION: &str = "us-east-1";

struct Server {
    url: String,
    _child: Option<Child>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The emulator's URL, or `None` (with the reason printed) when the test should skip.
///
/// # Panics
/// When `CI=true` and no emulator is configured, or one could not be started.
pub fn moto_url() -> Option<String> {
    let server = SERVER.get_or_init(start);
    match server {
        Ok(server) => Some(server.url.clone()),
        Err(reason) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no AWS emulator: {reason}. Run the tests through scripts/test, which starts moto_server and sets KILN_TEST_MOTO_URL."
            );
            eprintln!("skipping: {reason} (run scripts/test, or set KILN_TEST_MOTO_URL)");
            None
        }
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("KILN_TEST_MOTO_URL")
        && !url.trim().is_empty()
    {
        return Ok(Server { url: url.trim().trim_end_matches('/').to_owned(), _child: None });
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        return Err("KILN_TEST_MOTO_URL is not set".to_owned());
    }
    let (program, python_path) = find_moto().ok_or("moto_server was not found")?;
    if python_path.is_none() {
        eprintln!(
            "using {} from PATH; the tests expect moto 5.2.5 (scripts/test installs it under .tools/), and older versions fail some of them",
            program.display()
        );
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    // The server ends when this process does: `sh` kills it once its standard input closes.
    let script = format!(
        "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid"
    );
    let mut command = Command::new("sh");
    command.arg("-c").arg(script).arg(&program).stdin(Stdio::piped()).stdout(Stdio::null());
    if let Some(path) = python_path {
        command.env("PYTHONPATH", path);
    }
    let child = command.spawn().map_err(|e| format!("start {}: {e}", program.display()))?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("{} did not answer on port {port}", program.display()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Server { url: format!("http://127.0.0.1:{port}"), _child: Some(child) })
}

/// `moto_server` from scripts/test's `.tools/python` (with the `PYTHONPATH` it needs), or
/// from `PATH`.
fn find_moto() -> Option<(PathBuf, Option<PathBuf>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tools = root.join(".tools/python");
    let local = tools.join("bin/moto_server");
    if local.is_file() {
        return Some((local, Some(tools)));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
        .map(|p| (p, None))
}

/// An SDK configuration for the emulator at `url`.
pub async fn sdk(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(kiln_aws::http_client())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "kiln-tests"))
        .load()
        .await
}

/// A name no other test (or earlier run against the same server) uses: `<prefix>-<n>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{nanos:x}-{n}", std::process::id())
}

/// A new bucket.
pub async fn bucket(sdk: &SdkConfig, prefix: &str) -> String {
    let name = unique(prefix).to_ascii_lowercase();
    let created = kiln_aws::s3_client(sdk).create_bucket().bucket(&name).send().await;
    assert!(created.is_ok(), "create bucket {name}: {created:?}");
    name
}

/// A plain HTTP request to the emulator (for what the SDK clients here do not cover: EC2, and
/// fetching a presigned link). Returns the status and the body.
pub fn http(
    url: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    let mut request = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap_or_else(|e| panic!("send: {e}"));
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap_or_else(|e| panic!("read: {e}"));
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    let body = if text.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(&body)
    } else {
        body
    };
    (status, body)
}

fn unchunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// An EC2 query call to the emulator (moto reads the service from the credential scope and
/// does not check signatures); returns the response body.
pub fn ec2(url: &str, params: &[(&str, &str)]) -> String {
    let mut body = String::from("Version=2016-11-15");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", v.replace('/', "%2F")));
    }
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20240101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0"
    );
    let (status, text) = http(
        url,
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", &auth)],
        &body,
    );
    assert_eq!(status, 200, "ec2 {params:?}: {text}");
    text
}

/// The text of the first `<tag>…</tag>` in `xml`.
pub fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start =
        xml.find(&open).map(|i| i + open.len()).unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let end = xml[start..].find('<').map_or(xml.len(), |i| start + i);
    xml[start..end].to_owned()
}

/// A new VPC with one subnet and one security group in the emulator: (subnet, group).
///
/// # Panics
/// When the emulator refuses a call.
pub fn network(url: &str) -> (String, String) {
    let vpc =
        xml_value(&ec2(url, &[("Action", "CreateVpc"), ("CidrBlock", "10.0.0.0/16")]), "vpcId");
    // moto names a task's network interface only in a VPC with DNS host names, as the default
    // VPC has.
    ec2(
        url,
        &[("Action", "ModifyVpcAttribute"), ("VpcId", &vpc), ("EnableDnsHostnames.Value", "true")],
    );
    let subnet = xml_value(
        &ec2(url, &[("Action", "CreateSubnet"), ("VpcId", &vpc), ("CidrBlock", "10.0.1.0/24")]),
        "subnetId",
    );
    let name = unique("kiln-sg");
    let group = xml_value(
        &ec2(
            url,
            &[
                ("Action", "CreateSecurityGroup"),
                ("GroupName", &name),
                ("GroupDescription", "kiln"),
                ("VpcId", &vpc),
            ],
        ),
        "groupId",
    );
    (subnet, group)
}
