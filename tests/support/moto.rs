//! The AWS emulator the cloud's end-to-end tests run against (moto's server, as kiln-aws's
//! tests use it): `KILN_TEST_MOTO_URL` when scripts/test started one, else a `moto_server` the
//! test starts from `.tools/python` or `PATH`; with neither the test skips, or fails when
//! `CI=true`. Also the SDK configuration for it, unique names, and a VPC network (through EC2's
//! query API, so no EC2 client is compiled).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;

/// The test credentials: distinctive, so a test can assert they never reach a task.
pub const ACCESS_KEY: &str = "AKIDKILNTASKTESTKEY";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "kiln-task-test-secret-never-in-a-task";
/// The region.
pub const REGION: &str = "us-east-1";

struct Server {
    url: String,
    _child: Option<Child>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The emulator's URL, or `None` (with the reason printed) when the test should skip.
pub fn moto_url() -> Option<String> {
    match SERVER.get_or_init(start) {
        Ok(server) => Some(server.url.clone()),
        Err(reason) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no AWS emulator: {reason}; run the tests through scripts/test"
            );
            eprintln!("skipping: {reason} (run scripts/test, or set KILN_TEST_MOTO_URL)");
            None
        }
    }
}

fn start() -> Result<Server, String> {
    if let Some(url) = std::env::var("KILN_TEST_MOTO_URL").ok().filter(|u| !u.trim().is_empty()) {
        return Ok(Server { url: url.trim().trim_end_matches('/').to_owned(), _child: None });
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        return Err("KILN_TEST_MOTO_URL is not set".to_owned());
    }
    let tools = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/python");
    let (program, python_path) = if tools.join("bin/moto_server").is_file() {
        (tools.join("bin/moto_server"), Some(tools))
    } else {
        let path = std::env::var_os("PATH").ok_or("moto_server was not found")?;
        let found =
            std::env::split_paths(&path).map(|d| d.join("moto_server")).find(|p| p.is_file());
        (found.ok_or("moto_server was not found")?, None)
    };
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

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

/// An EC2 query call to the emulator (moto reads the service from the credential scope and
/// does not check signatures); returns the response body.
fn ec2(url: &str, params: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let mut body = String::from("Version=2016-11-15");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", v.replace('/', "%2F")));
    }
    let host = url.trim_start_matches("http://");
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20240101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0"
    );
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    stream.write_all(request.as_bytes()).unwrap_or_else(|e| panic!("send: {e}"));
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap_or_else(|e| panic!("read: {e}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "ec2 {params:?}: {answer}");
    answer
}

fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start =
        xml.find(&open).map(|i| i + open.len()).unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let end = xml[start..].find('<').map_or(xml.len(), |i| start + i);
    xml[start..end].to_owned()
}

/// A new VPC with one subnet and one security group in the emulator: (subnet, group).
pub fn network(url: &str) -> (String, String) {
    let vpc =
        xml_value(&ec2(url, &[("Action", "CreateVpc"), ("CidrBlock", "10.0.0.0/16")]), "vpcId");
    ec2(
        url,
        &[("Action", "ModifyVpcAttribute"), ("VpcId", &vpc), ("EnableDnsHostnames.Value", "true")],
    );
    let subnet = xml_value(
        &ec2(url, &[("Action", "CreateSubnet"), ("VpcId", &vpc), ("CidrBlock", "10.0.1.0/24")]),
        "subnetId",
    );
    let group = xml_value(
        &ec2(
            url,
            &[
                ("Action", "CreateSecurityGroup"),
                ("GroupName", &unique("kiln-sg")),
                ("GroupDescription", "kiln"),
                ("VpcId", &vpc),
            ],
        ),
        "groupId",
    );
    (subnet, group)
}
