//! Git's smart HTTP protocol from local bare repositories: a small server on 127.0.0.1 that
//! runs `git http-backend` (git's own CGI program) for each request, so builds fetch their
//! source over HTTP exactly as from GitHub. It records the `Authorization` header of every
//! request, so a test can check what credential a fetch used.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running git HTTP server.
#[derive(Debug)]
pub struct GitHttp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The `Authorization` header of each request (`None` when absent), in order.
    pub authorizations: Arc<Mutex<Vec<Option<String>>>>,
}

impl GitHttp {
    /// Serves the bare repositories under `root` (`root/owner/name.git`).
    pub fn start(root: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let root = root.to_path_buf();
        let authorizations: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let seen = authorizations.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let root = root.clone();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, &seen);
                });
            }
        });
        Self { addr, authorizations }
    }

    /// The clone URL of `owner/name`.
    pub fn url(&self, full_name: &str) -> String {
        format!("http://{}/{full_name}.git", self.addr)
    }
}

fn serve(
    stream: TcpStream,
    root: &PathBuf,
    seen: &Mutex<Vec<Option<String>>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) =
        (parts.next().unwrap_or("GET").to_owned(), parts.next().unwrap_or("/").to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if let Ok(mut s) = seen.lock() {
        s.push(header("authorization"));
    }
    let length: usize = header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", length.to_string())
        .env("GIT_PROTOCOL", header("git-protocol").unwrap_or_default())
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&body)?;
    }
    let out = child.wait_with_output()?;
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.stdout.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (cgi_head, cgi_body) = match split {
        Some((i, n)) => {
            (String::from_utf8_lossy(&out.stdout[..i]).into_owned(), &out.stdout[i + n..])
        }
        None => (String::new(), &out.stdout[..]),
    };
    let mut status = "200 OK".to_owned();
    let mut response = Vec::new();
    for h in cgi_head.lines() {
        match h.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_owned(),
            Some(_) => response.push(h.to_owned()),
            None => {}
        }
    }
    let mut stream = stream;
    write!(stream, "HTTP/1.1 {status}\r\n")?;
    for h in response {
        write!(stream, "{h}\r\n")?;
    }
    write!(stream, "Content-Length: {}\r\nConnection: close\r\n\r\n", cgi_body.len())?;
    stream.write_all(cgi_body)?;
    stream.flush()
}
