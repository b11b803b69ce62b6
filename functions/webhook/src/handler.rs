//! A Function URL request (payload format 2.0, any path) in, `service::intake` out, answered
//! as `kiln serve` answers `POST /webhook`: 202 with the builds started, 200 when nothing
//! builds, 401 for a bad or missing signature, 400 for a malformed delivery, 413 for one over
//! 25 MB, 503 when the catalog or the build store cannot be read. The body is the raw bytes
//! GitHub signed (Lambda hands them base64-encoded or not; `lambda_http` decodes). A refused
//! delivery is answered without reading the catalog; one that cannot be checked, because the
//! webhook secret could not be read, gets 503.
//!
//! Intake finishes before the reply (a Lambda function stops when it answers): the build
//! record, the buildspec check, `pending` and `RunTask` all happen within GitHub's 10 s,
//! with GitHub's calls retried only briefly (`RetryPolicy::intake`).

use std::sync::Arc;

use kiln_core::project::Catalog;
use kiln_core::service::{self, IntakeReply, Projects, Settings};
use kiln_core::webhook::{DeliveryHeaders, verify};
use kiln_lambda::{CatalogCache, CloudPorts, LazyGitHub, Prefetch};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;

/// What the function needs.
pub struct Webhook {
    /// The services' ports.
    pub ports: CloudPorts,
    /// The webhook secret and what it signs, read in the background from the start.
    pub keyed: Prefetch<Keyed>,
    /// kiln's GitHub side (the ports' too), read once a delivery that may build is verified.
    pub github: LazyGitHub,
    /// The project catalog.
    pub catalog: CatalogCache,
}

/// What the webhook secret gives.
pub struct Keyed {
    /// The secret deliveries are signed with.
    pub secret: SecretString,
    /// Region, account, and page links signed with a key derived from the secret.
    pub settings: Settings,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("catalog", &self.catalog).finish_non_exhaustive()
    }
}

impl Webhook {
    /// Answers one delivery.
    ///
    /// # Errors
    /// None: every outcome is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        let pairs =
            request.headers().iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)));
        let headers = DeliveryHeaders::from_pairs(pairs);
        let body: &[u8] = request.body().as_ref();
        let Keyed { secret, settings } = match self.keyed.get().await {
            Ok(keyed) => keyed,
            Err(_) => return no_secret(),
        };
        let projects = if verify(&headers, body, secret).is_err() {
            Ok(Arc::new(Projects::new(Catalog::default())?))
        } else {
            if headers.event.as_deref().is_some_and(|e| e != "ping") {
                self.github.begin();
            }
            self.catalog.projects().await
        };
        let reply = match projects {
            Ok(projects) => {
                let ports = self.ports.ports();
                service::intake(ports, settings, &projects, secret, &headers, body).await
            }
            Err(e) => {
                tracing::error!(error = %kiln_core::error_chain(&e), "no project catalog; delivery refused");
                IntakeReply {
                    status: 503,
                    builds: Vec::new(),
                    ignored: None,
                    error: Some(kiln_core::error_chain(&e)),
                }
            }
        };
        answer(&reply)
    }
}

/// 503 for a delivery that cannot be checked: the webhook secret could not be read (GitHub
/// shows the failed delivery, which can be redelivered). Why is in the function's log, not in
/// the answer: whoever sent the delivery is not known yet.
fn no_secret() -> Result<Response<Body>, lambda_http::Error> {
    let error = "the webhook secret could not be read; the function's log says why".to_owned();
    answer(&IntakeReply { status: 503, builds: Vec::new(), ignored: None, error: Some(error) })
}

fn answer(reply: &IntakeReply) -> Result<Response<Body>, lambda_http::Error> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok(Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(reply.to_json()))?)
}
