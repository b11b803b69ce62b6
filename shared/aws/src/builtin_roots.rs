//! An HTTP client for the AWS SDK that trusts the Mozilla roots built into kiln
//! ([`webpki_roots`]), for the Lambda functions.
//!
//! The SDK's own client ([`crate::http_client`]) trusts the system's roots: it reads every
//! certificate file of the system's store and parses each certificate, in every process, before
//! its first HTTPS connection. That is tens of millions of instructions (more where the store
//! is a folder of hundreds of files), which a Lambda function would spend on its first AWS
//! call of every cold start. The roots built in here are parsed already: the first connection
//! costs what every later one does.
//!
//! `SSL_CERT_FILE` or `SSL_CERT_DIR`, when set, add the certificates they name (a proxy's or
//! an emulator's own authority), read once per process. Otherwise the client is what the SDK's
//! is: hyper with rustls on ring, HTTP/1.1, `TCP_NODELAY`, connections kept for reuse, the
//! connect timeout and read timeout of the SDK's settings, and transport errors classified as
//! the SDK's client classifies them (I/O and timeouts retried; a response cut short retried as
//! transient; a bad request not).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::TokioExecutor;

type BoxError = Box<dyn StdError + Send + Sync>;

/// The roots every connection of the process trusts: Mozilla's, and the certificates of
/// `SSL_CERT_FILE` / `SSL_CERT_DIR` when either is set.
static ROOTS: LazyLock<Arc<rustls::RootCertStore>> = LazyLock::new(|| {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::warn!(error = %e, "a certificate of SSL_CERT_FILE or SSL_CERT_DIR could not be read");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(added, ignored, "certificates of SSL_CERT_FILE or SSL_CERT_DIR trusted");
    }
    Arc::new(roots)
});

/// The client; see the module docs.
pub fn builtin_roots_http_client() -> SharedHttpClient {
    SharedHttpClient::new(BuiltinRootsClient::default())
}

/// A connector's connect timeout and read timeout.
type Timeouts = (Option<Duration>, Option<Duration>);

/// Connectors by the timeouts they were made for (the SDK asks once per client and settings).
#[derive(Debug, Default)]
struct BuiltinRootsClient {
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for BuiltinRootsClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(PoisonError::into_inner);
        connectors
            .entry(key)
            .or_insert_with(|| {
                SharedHttpConnector::new(Connector::new(key.0, key.1, ROOTS.clone()))
            })
            .clone()
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some("1.x".into())))
    }
}

/// One hyper client over rustls.
#[derive(Debug)]
struct Connector {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
    read_timeout: Option<Duration>,
}

impl Connector {
    fn new(
        connect_timeout: Option<Duration>,
        read_timeout: Option<Duration>,
        roots: Arc<rustls::RootCertStore>,
    ) -> Self {
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(connect_timeout);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|config| config.with_root_certificates(roots).with_no_client_auth());
        let tls = match tls {
            Ok(tls) => tls,
            // ring's provider supports the default versions: this does not happen.
            Err(e) => unreachable!("rustls with ring refused its default protocol versions: {e}"),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Self { client: Client::builder(TokioExecutor::new()).build(https), read_timeout }
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let sent = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let answered = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, sent).await {
                    Ok(answered) => answered,
                    Err(_) => {
                        let e: BoxError = format!("no response within {limit:?}").into();
                        return Err(ConnectorError::timeout(e));
                    }
                },
                None => sent.await,
            };
            match answered {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None)),
                Err(e) => Err(classify(e)),
            }
        })
    }
}

/// A transport error as the SDK's client classifies it.
fn classify(e: hyper_util::client::legacy::Error) -> ConnectorError {
    let io = find::<std::io::Error>(&e).is_some();
    if let Some(hyper) = find::<hyper::Error>(&e) {
        if hyper.is_timeout() {
            return ConnectorError::timeout(e.into());
        }
        if hyper.is_user() {
            return ConnectorError::user(e.into());
        }
        if hyper.is_closed() || hyper.is_canceled() || io {
            return ConnectorError::io(e.into());
        }
        // S3 sometimes ends a response early.
        if hyper.is_incomplete_message() {
            return ConnectorError::other(e.into(), Some(ErrorKind::TransientError));
        }
        return ConnectorError::other(e.into(), None);
    }
    if e.is_connect() || io {
        return ConnectorError::io(e.into());
    }
    ConnectorError::other(e.into(), None)
}

/// The first error of type `E` in `e`'s chain.
fn find<'a, E: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A certificate authority and a certificate it signed for `localhost`, made with openssl
    /// in `dir`: (the authority's PEM path, the leaf's, the leaf's key).
    fn authority_and_leaf(dir: &Path) -> (String, String, String) {
        let path = |name: &str| dir.join(name).display().to_string();
        let run = |args: &[&str]| {
            let out =
                Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        run(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "1"]]
            .concat()
            .iter()
            .copied()
            .chain(["-subj", "/CN=kiln test authority"])
            .collect::<Vec<_>>());
        run(&[
            &["req"][..],
            &ec,
            &["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"],
        ]
        .concat());
        std::fs::write(
            dir.join("ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .expect("ext");
        run(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "1",
            "-extfile",
            "ext",
        ]);
        (path("ca.pem"), path("leaf.pem"), path("leaf.key"))
    }

    /// An HTTPS server on loopback answering every connection's first request with `ok`.
    async fn https_server(leaf: &str, key: &str) -> u16 {
        let chain = vec![CertificateDer::from_pem_file(leaf).expect("leaf")];
        let key = PrivateKeyDer::from_pem_file(key).expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        port
    }

    fn get(url: String) -> HttpRequest {
        let request = http::Request::builder().uri(url).body(SdkBody::empty()).expect("request");
        HttpRequest::try_from(request).expect("smithy request")
    }

    #[tokio::test]
    async fn https_trusts_what_its_roots_say_and_refuses_the_rest() {
        if Command::new("openssl").arg("version").output().is_err() {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but no openssl");
            eprintln!("skipping: no openssl to make the test's certificates with");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (authority, leaf, key) = authority_and_leaf(dir.path());
        let port = https_server(&leaf, &key).await;
        let url = format!("https://localhost:{port}/");

        let mut trusting = rustls::RootCertStore::empty();
        trusting.add(CertificateDer::from_pem_file(&authority).expect("ca")).expect("add");
        let connector = Connector::new(Some(Duration::from_secs(5)), None, Arc::new(trusting));
        let answer = connector.call(get(url.clone())).await.expect("a trusted server");
        assert_eq!(answer.status().as_u16(), 200);
        let body = aws_smithy_types::byte_stream::ByteStream::new(answer.into_body());
        assert_eq!(&body.collect().await.expect("body").into_bytes()[..], b"ok");

        // Mozilla's roots do not include the test's authority: the handshake fails.
        let connector = Connector::new(Some(Duration::from_secs(5)), None, ROOTS.clone());
        let e = connector.call(get(url)).await.expect_err("an untrusted server");
        let text = format!("{:?}", e);
        assert!(text.to_lowercase().contains("certificate"), "{text}");
    }

    #[test]
    fn mozillas_roots_are_built_in() {
        assert!(ROOTS.len() > 100, "{} roots", ROOTS.len());
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error_the_sdk_retries() {
        // A port nothing listens on: bind one, note it, let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let connector = Connector::new(Some(Duration::from_secs(2)), None, ROOTS.clone());
        let e =
            connector.call(get(format!("http://127.0.0.1:{port}/"))).await.expect_err("refused");
        assert!(e.is_io(), "{e:?}");
    }

    #[tokio::test]
    async fn a_silent_server_is_a_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let _held = tokio::spawn(async move {
            let held = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(held);
        });
        let connector = Connector::new(None, Some(Duration::from_millis(200)), ROOTS.clone());
        let e = connector.call(get(format!("http://127.0.0.1:{port}/"))).await.expect_err("silent");
        assert!(e.is_timeout(), "{e:?}");
    }
}
