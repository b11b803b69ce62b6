//! Delivery intake: headers, body size and encoding, and the `X-Hub-Signature-256` check.
//!
//! The signature is checked over the raw body exactly as received, before anything parses
//! it, and compared in constant time (`hmac`'s `verify_slice`). A delivery that carries only
//! the SHA-1 `X-Hub-Signature` is refused: kiln never falls back to SHA-1.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::ids::{DeliveryId, IdError};

/// The largest body kiln accepts: GitHub caps payloads at 25 MB and drops larger ones.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// The request headers kiln reads from a delivery. Names are matched without regard to case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryHeaders {
    /// `X-GitHub-Event`: `push`, `pull_request`, ...
    pub event: Option<String>,
    /// `X-GitHub-Delivery`.
    pub delivery: Option<String>,
    /// `User-Agent`: `GitHub-Hookshot/<version>`.
    pub user_agent: Option<String>,
    /// `X-Hub-Signature-256`: `sha256=<hex>`.
    pub signature_256: Option<String>,
    /// `X-Hub-Signature`: the legacy `sha1=<hex>`, only used to say why a delivery is refused.
    pub signature_sha1: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
}

impl DeliveryHeaders {
    /// Picks kiln's headers out of `(name, value)` pairs; the first of a repeated name wins.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut h = Self::default();
        for (name, value) in pairs {
            let slot = match name.to_ascii_lowercase().as_str() {
                "x-github-event" => &mut h.event,
                "x-github-delivery" => &mut h.delivery,
                "user-agent" => &mut h.user_agent,
                "x-hub-signature-256" => &mut h.signature_256,
                "x-hub-signature" => &mut h.signature_sha1,
                "content-type" => &mut h.content_type,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.trim().to_owned());
            }
        }
        h
    }
}

/// A delivery whose signature checked out (or a local file taken on trust), with its JSON
/// payload extracted from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The `X-GitHub-Event` name.
    pub event_name: String,
    /// The `X-GitHub-Delivery` id, when sent.
    pub delivery_id: Option<DeliveryId>,
    /// The `User-Agent`, when sent.
    pub user_agent: Option<String>,
    /// The JSON payload (the `payload` field of a form-encoded body, decoded).
    pub payload: Vec<u8>,
}

impl Delivery {
    /// A delivery read from a local file, with no signature to check (`kiln resolve`,
    /// `kiln run --event`). The body may be JSON or `payload=`-form-encoded.
    ///
    /// # Errors
    /// [`VerifyError::TooLarge`] or a form body without `payload`.
    pub fn unsigned(event_name: &str, body: &[u8]) -> Result<Self, VerifyError> {
        check_size(body)?;
        Ok(Self {
            event_name: event_name.to_owned(),
            delivery_id: None,
            user_agent: None,
            payload: extract_payload(None, body)?,
        })
    }
}

/// Why a delivery was refused. None of these messages contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The body is larger than [`MAX_BODY_BYTES`].
    #[error("body of {size} bytes is larger than the {limit} bytes github sends at most")]
    TooLarge {
        /// The body's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Neither signature header is present.
    #[error("missing X-Hub-Signature-256 header: the delivery is not signed")]
    MissingSignature,
    /// Only the SHA-1 `X-Hub-Signature` is present.
    #[error("only the sha1 X-Hub-Signature header is present; kiln requires X-Hub-Signature-256")]
    Sha1Only,
    /// The header is not `sha256=` and 64 hexadecimal digits.
    #[error("malformed X-Hub-Signature-256 header: {0}")]
    MalformedSignature(&'static str),
    /// The signature does not match the body and the secret.
    #[error("wrong X-Hub-Signature-256: the body was not signed with this webhook's secret")]
    WrongSignature,
    /// No `X-GitHub-Event` header.
    #[error("missing X-GitHub-Event header")]
    MissingEvent,
    /// The `X-GitHub-Delivery` header is not a delivery id.
    #[error("bad X-GitHub-Delivery header")]
    DeliveryId(#[source] IdError),
    /// A content type other than JSON or form encoding.
    #[error(
        "unsupported content type {0:?}: expected application/json or application/x-www-form-urlencoded"
    )]
    ContentType(String),
    /// A form-encoded body without a `payload` field.
    #[error("form-encoded body has no payload field")]
    FormWithoutPayload,
}

fn check_size(body: &[u8]) -> Result<(), VerifyError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(VerifyError::TooLarge { size: body.len(), limit: MAX_BODY_BYTES });
    }
    Ok(())
}

/// Checks the `X-Hub-Signature-256` of `body` against `secret`, then captures the event name,
/// delivery id and user agent and extracts the JSON payload.
///
/// # Errors
/// A [`VerifyError`] saying which check failed: size, a missing, SHA-1-only, malformed or
/// wrong signature, a missing event name, a bad delivery id or an unknown content type.
pub fn verify(
    headers: &DeliveryHeaders,
    body: &[u8],
    secret: &SecretString,
) -> Result<Delivery, VerifyError> {
    check_size(body)?;
    check_signature(headers, body, secret)?;
    let event_name = headers.event.clone().ok_or(VerifyError::MissingEvent)?;
    if event_name.is_empty() {
        return Err(VerifyError::MissingEvent);
    }
    let delivery_id = headers
        .delivery
        .as_deref()
        .map(DeliveryId::parse)
        .transpose()
        .map_err(VerifyError::DeliveryId)?;
    Ok(Delivery {
        event_name,
        delivery_id,
        user_agent: headers.user_agent.clone(),
        payload: extract_payload(headers.content_type.as_deref(), body)?,
    })
}

/// Checks the signature only.
///
/// # Errors
/// As [`verify`], for the signature checks.
pub fn check_signature(
    headers: &DeliveryHeaders,
    body: &[u8],
    secret: &SecretString,
) -> Result<(), VerifyError> {
    let header = match (&headers.signature_256, &headers.signature_sha1) {
        (Some(h), _) => h,
        (None, Some(_)) => return Err(VerifyError::Sha1Only),
        (None, None) => return Err(VerifyError::MissingSignature),
    };
    let hex_digits = header
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedSignature("expected the sha256= prefix"))?;
    if hex_digits.len() != 64 {
        return Err(VerifyError::MalformedSignature("expected 64 hexadecimal digits"));
    }
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digits, &mut expected)
        .map_err(|_| VerifyError::MalformedSignature("expected 64 hexadecimal digits"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| VerifyError::WrongSignature)?;
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| VerifyError::WrongSignature)
}

/// The JSON payload of a body: the body itself, or its decoded `payload=` form field.
///
/// With no content type, a body starting with `payload=` is taken as form-encoded.
fn extract_payload(content_type: Option<&str>, body: &[u8]) -> Result<Vec<u8>, VerifyError> {
    let media =
        content_type.map(|ct| ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    let form = match media.as_deref() {
        Some("application/json") => false,
        Some("application/x-www-form-urlencoded") => true,
        Some(other) => return Err(VerifyError::ContentType(other.to_owned())),
        None => body.starts_with(b"payload="),
    };
    if !form {
        return Ok(body.to_vec());
    }
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned().into_bytes())
        .ok_or(VerifyError::FormWithoutPayload)
}

/// `sha256=<hex>` of `body` under `secret`: what GitHub would send. For tests and fakes.
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    let mut out = String::from("sha256=");
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
        mac.update(body);
        out.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn headers(sig256: Option<&str>, sig1: Option<&str>) -> DeliveryHeaders {
        DeliveryHeaders {
            event: Some("push".into()),
            delivery: Some("72d3162e-cc78-11e3-81ab-4c9367dc0958".into()),
            user_agent: Some("GitHub-Hookshot/044aadd".into()),
            signature_256: sig256.map(str::to_owned),
            signature_sha1: sig1.map(str::to_owned),
            content_type: Some("application/json".into()),
        }
    }

    #[test]
    fn github_docs_vector() {
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let s = secret("It's a Secret to Everybody");
        assert_eq!(sign(b"Hello, World!", &s), sig);
        assert!(verify(&headers(Some(sig), None), b"Hello, World!", &s).is_ok());
        assert_eq!(
            verify(&headers(Some(sig), None), b"Hello, World?", &s),
            Err(VerifyError::WrongSignature)
        );
    }

    #[test]
    fn each_refusal_says_why() {
        let s = secret("k");
        let body = b"{}";
        assert_eq!(verify(&headers(None, None), body, &s), Err(VerifyError::MissingSignature));
        assert_eq!(verify(&headers(None, Some("sha1=00")), body, &s), Err(VerifyError::Sha1Only));
        assert!(matches!(
            verify(&headers(Some("sha1=abc"), None), body, &s),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&headers(Some(&format!("sha256={}", "z".repeat(64))), None), body, &s),
            Err(VerifyError::MalformedSignature(_))
        ));
        let wrong = format!("sha256={}", "0".repeat(64));
        assert_eq!(
            verify(&headers(Some(&wrong), None), body, &s),
            Err(VerifyError::WrongSignature)
        );
        let err = verify(&headers(Some(&wrong), None), body, &s).expect_err("wrong");
        assert!(!err.to_string().contains('k'.to_string().repeat(2).as_str()));
    }

    #[test]
    fn form_bodies_carry_the_payload_field() {
        let s = secret("k");
        let body = b"payload=%7B%22zen%22%3A%22x%22%7D";
        let mut h = headers(Some(&sign(body, &s)), None);
        h.content_type = Some("application/x-www-form-urlencoded".into());
        let d = verify(&h, body, &s).expect("valid");
        assert_eq!(d.payload, br#"{"zen":"x"}"#);
        h.content_type = Some("text/plain".into());
        assert!(matches!(verify(&h, body, &s), Err(VerifyError::ContentType(_))));
    }

    #[test]
    fn headers_are_case_insensitive() {
        let h = DeliveryHeaders::from_pairs([
            ("x-github-event", "ping"),
            ("X-Hub-Signature-256", "sha256=1"),
            ("USER-AGENT", "GitHub-Hookshot/1"),
            ("Host", "x"),
        ]);
        assert_eq!(h.event.as_deref(), Some("ping"));
        assert_eq!(h.signature_256.as_deref(), Some("sha256=1"));
        assert_eq!(h.user_agent.as_deref(), Some("GitHub-Hookshot/1"));
    }

    #[test]
    fn oversized_bodies_are_refused_first() {
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(
            verify(&headers(None, None), &body, &secret("k")),
            Err(VerifyError::TooLarge { .. })
        ));
    }
}
