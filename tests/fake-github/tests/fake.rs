//! The fake GitHub itself: it refuses what GitHub's description refuses, pages like GitHub,
//! checks App JWTs, and records what it gets.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kiln_fake_github::{FakeGitHub, Route, TEST_APP_PRIVATE_KEY_PEM};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a json body")
    }
}

/// One HTTP/1.1 request over a fresh connection.
async fn send(
    github: &FakeGitHub,
    method: &str,
    target: &str,
    auth: &str,
    body: Option<&Value>,
) -> Answer {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\nauthorization: Bearer {auth}\r\ncontent-length: {}\r\n",
        github.addr(),
        body.len()
    );
    if !body.is_empty() {
        request.push_str("content-type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream =
        tokio::net::TcpStream::connect(github.addr()).await.expect("the call succeeds");
    stream.write_all(request.as_bytes()).await.expect("the call succeeds");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("the call succeeds");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete answer");
    let head = String::from_utf8(raw[..split].to_vec()).expect("an ascii head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .expect("a status line")
        .split(' ')
        .nth(1)
        .expect("a status code")
        .parse()
        .expect("a number or header value");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Answer { status, headers, body: raw[split + 4..].to_vec() }
}

async fn fake() -> FakeGitHub {
    let github = FakeGitHub::start().await;
    assert!(github.checks_requests(), "GitHub's OpenAPI description is installed by scripts/test");
    github.add_token("t");
    github.add_commit("o/r", SHA, "message");
    github
}

#[tokio::test]
async fn a_body_githubs_description_refuses_is_answered_422_and_recorded() {
    let github = fake().await;
    let path = format!("/repos/o/r/statuses/{SHA}");
    let bad =
        send(&github, "POST", &path, "t", Some(&json!({"state": "done", "context": 7}))).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.json()["message"].as_str().expect("a string").contains("$.state"),
        "{}",
        bad.json()
    );
    let violations = github.violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(
        violations.iter().any(|v| v.message.contains("$.context: is integer, expected string"))
    );
    assert!(github.statuses().is_empty());
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| github.assert_no_violations()));
    assert!(caught.is_err(), "assert_no_violations fails the test");

    let missing = send(&github, "POST", &path, "t", None).await;
    assert_eq!(missing.status, 422, "the status body is required");
    let good =
        send(&github, "POST", &path, "t", Some(&json!({"state": "success", "target_url": null})))
            .await;
    assert_eq!(good.status, 201);
    assert_eq!(github.statuses()[0].context, "default");
}

#[tokio::test]
async fn routes_and_query_parameters_github_does_not_have_are_violations() {
    let github = fake().await;
    assert_eq!(send(&github, "GET", "/repos/o/r/no-such-thing", "t", None).await.status, 422);
    let typo = send(&github, "GET", "/repos/o/r/pulls/1/files?perpage=100", "t", None).await;
    assert_eq!(typo.status, 422);
    let messages: Vec<String> = github.violations().into_iter().map(|v| v.message).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("is no operation of GitHub's REST API"));
    assert!(messages[1].contains("\"perpage\""));
    assert_eq!(github.requests().len(), 2);
}

#[tokio::test]
async fn pull_request_files_are_paged_with_links() {
    let github = fake().await;
    github.add_pull_request("o/r", 5, (0..230).map(|i| format!("f{i}")));
    let first = send(&github, "GET", "/repos/o/r/pulls/5/files?per_page=100", "t", None).await;
    assert_eq!(first.json().as_array().expect("a list").len(), 100);
    let base = github.api_url();
    assert_eq!(
        first.header("link"),
        Some(format!(
            "<{base}/repos/o/r/pulls/5/files?per_page=100&page=2>; rel=\"next\", <{base}/repos/o/r/pulls/5/files?per_page=100&page=3>; rel=\"last\""
        ).as_str())
    );
    let last =
        send(&github, "GET", "/repos/o/r/pulls/5/files?per_page=100&page=3", "t", None).await;
    assert_eq!(last.json().as_array().expect("a list").len(), 30);
    assert!(!last.header("link").expect("the header is there").contains("rel=\"next\""));
    github.assert_no_violations();
}

fn jwt(iat: i64, exp: i64, iss: &str) -> String {
    let key = EncodingKey::from_rsa_pem(TEST_APP_PRIVATE_KEY_PEM.as_bytes()).expect("the test key");
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &json!({"iat": iat, "exp": exp, "iss": iss}),
        &key,
    )
    .expect("a signed jwt")
}

#[tokio::test]
async fn app_jwts_are_checked_and_tokens_scoped() {
    let github = fake().await;
    github.add_app(9);
    github.install(3, &["o/r"]);
    let now = github.now_s();
    let lookup = |jwt: String| {
        let github = &github;
        async move { send(github, "GET", "/repos/o/r/installation", &jwt, None).await.status }
    };
    assert_eq!(lookup(jwt(now - 60, now + 540, "9")).await, 200);
    assert_eq!(lookup(jwt(now - 700, now - 100, "9")).await, 401, "expired");
    assert_eq!(lookup(jwt(now - 60, now + 900, "9")).await, 401, "more than 10 minutes");
    assert_eq!(lookup(jwt(now + 120, now + 500, "9")).await, 401, "issued in the future");
    assert_eq!(lookup(jwt(now - 60, now + 540, "8")).await, 401, "another app");
    assert_eq!(lookup("t".into()).await, 401, "a token is no jwt");

    let body = json!({"repositories": ["r"], "permissions": {"contents": "read"}});
    let minted = send(
        &github,
        "POST",
        "/app/installations/3/access_tokens",
        &jwt(now - 60, now + 540, "9"),
        Some(&body),
    )
    .await;
    assert_eq!(minted.status, 201);
    let token = minted.json()["token"].as_str().expect("a string").to_owned();
    let status = json!({"state": "pending"});
    let read =
        send(&github, "GET", &format!("/repos/o/r/contents/x?ref={SHA}"), &token, None).await;
    assert_eq!(read.status, 404, "allowed to read; the file is not there");
    let write =
        send(&github, "POST", &format!("/repos/o/r/statuses/{SHA}"), &token, Some(&status)).await;
    assert_eq!(write.status, 403);
    assert_eq!(github.requests_to(Route::AccessTokens).len(), 1);
    github.assert_no_violations();
}
