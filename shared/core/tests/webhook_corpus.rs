//! Every real payload of the shared webhook corpus is parsed or ignored with a reason, and
//! every signature vector verifies and fails when one byte changes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kiln_core::webhook::{
    DeliveryHeaders, Trigger, VerifyError, check_signature, event_type, parse, verify,
};
use secrecy::SecretString;
use serde_json::Value;

fn webhooks() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/webhooks");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent: CI runs beside ../shared and must not skip the corpus tests",
            dir.display()
        );
        eprintln!("skipping: {} is absent (no ../shared beside this checkout)", dir.display());
        None
    }
}

/// `<source>__<event>[.<action>]__<n>.json` → `<event>`.
fn event_of(file: &str) -> &str {
    let middle = file.split("__").nth(1).unwrap_or_default();
    middle.split('.').next().unwrap_or_default()
}

fn summary(t: &Trigger) -> String {
    let kind = match t {
        Trigger::Push(p) => format!(
            "push {} created={} deleted={} forced={} files={} head_message={}",
            p.git_ref,
            p.created,
            p.deleted,
            p.forced,
            p.changed_files.len(),
            p.head_commit_message.is_some()
        ),
        Trigger::PullRequest(pr) => format!(
            "pull_request {} #{} {}->{} draft={} merged={} fork={}",
            pr.action.as_str(),
            pr.number,
            pr.head_ref,
            pr.base_ref,
            pr.draft,
            pr.merged,
            pr.from_fork()
        ),
        Trigger::Release(r) => {
            format!("release {:?} tag={} name={:?}", r.action, r.tag_name, r.name)
        }
        Trigger::Ping { hook_id, .. } => format!("ping hook={hook_id:?}"),
        Trigger::Ignored { event, reason } => return format!("ignored {event}: {reason}"),
    };
    match event_type(t) {
        Ok(e) => format!("{kind} => {e}"),
        Err(reason) => format!("{kind} => no build ({reason})"),
    }
}

#[test]
fn every_corpus_payload_is_parsed_or_ignored() {
    let Some(dir) = webhooks() else { return };
    let mut seen = BTreeMap::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).expect("read dir").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name == "signature-test-vectors.json" {
            continue;
        }
        let body = std::fs::read(entry.path()).expect("read");
        let event = event_of(&name);
        let trigger = parse(event, &body)
            .unwrap_or_else(|e| panic!("{name}: {e}: {:?}", std::error::Error::source(&e)));
        seen.insert(name, summary(&trigger));
    }
    assert!(seen.len() >= 120, "only {} payloads", seen.len());
    insta::assert_yaml_snapshot!(seen);
}

fn flip_byte(body: &[u8], at: usize) -> Vec<u8> {
    let mut b = body.to_vec();
    b[at] ^= 0x01;
    b
}

fn flip_hex(sig: &str) -> String {
    let mut chars: Vec<char> = sig.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

fn check_vector(headers: &DeliveryHeaders, body: &[u8], secret: &SecretString, label: &str) {
    check_signature(headers, body, secret).unwrap_or_else(|e| panic!("{label}: {e}"));
    for at in [0, body.len() / 2, body.len() - 1] {
        assert_eq!(
            check_signature(headers, &flip_byte(body, at), secret),
            Err(VerifyError::WrongSignature),
            "{label}: body byte {at}"
        );
    }
    let mut bad = headers.clone();
    bad.signature_256 = bad.signature_256.as_deref().map(flip_hex);
    assert_eq!(check_signature(&bad, body, secret), Err(VerifyError::WrongSignature), "{label}");
    let other = SecretString::from("not the secret".to_owned());
    assert_eq!(check_signature(headers, body, &other), Err(VerifyError::WrongSignature), "{label}");
}

fn vectors() -> Option<(PathBuf, Value)> {
    let dir = webhooks()?;
    let text = std::fs::read_to_string(dir.join("signature-test-vectors.json")).expect("vectors");
    Some((dir, serde_json::from_str(&text).expect("json")))
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

#[test]
fn github_docs_vector_verifies() {
    let Some((_, v)) = vectors() else { return };
    let d = &v["github_docs_test_vector"];
    let secret = SecretString::from(s(&d["secret"]).to_owned());
    let headers =
        DeliveryHeaders::from_pairs([("X-Hub-Signature-256", s(&d["X-Hub-Signature-256"]))]);
    check_vector(&headers, s(&d["payload"]).as_bytes(), &secret, "github docs");
}

#[test]
fn github_docs_example_headers_are_captured() {
    let Some((_, v)) = vectors() else { return };
    let h = v["github_docs_example_delivery"]["headers"].as_object().expect("headers");
    let headers = DeliveryHeaders::from_pairs(h.iter().map(|(k, v)| (k.as_str(), s(v))));
    assert_eq!(headers.event.as_deref(), Some("issues"));
    assert_eq!(headers.delivery.as_deref(), Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
    assert_eq!(headers.user_agent.as_deref(), Some("GitHub-Hookshot/044aadd"));
    assert!(headers.signature_sha1.as_deref().is_some_and(|x| x.starts_with("sha1=")));
    let mut sha1_only = headers.clone();
    sha1_only.signature_256 = None;
    let secret = SecretString::from("x".to_owned());
    assert_eq!(check_signature(&sha1_only, b"{}", &secret), Err(VerifyError::Sha1Only));
}

#[test]
fn snare_requests_verify_as_json_and_form() {
    let Some((_, v)) = vectors() else { return };
    let list = v["snare_signed_requests"]["vectors"].as_array().expect("vectors");
    assert_eq!(list.len(), 2);
    for vec in list {
        let h = vec["headers"].as_object().expect("headers");
        let headers = DeliveryHeaders::from_pairs(h.iter().map(|(k, v)| (k.as_str(), s(v))));
        let secret = SecretString::from(s(&vec["verifies_with_secret"]).to_owned());
        let body = s(&vec["body"]).as_bytes();
        check_vector(&headers, body, &secret, s(&vec["file"]));
        let delivery = verify(&headers, body, &secret).expect("verified");
        assert_eq!(delivery.event_name, "issues");
        assert_eq!(delivery.user_agent.as_deref(), Some("GitHub-Hookshot/044aadd"));
        let payload: Value = serde_json::from_slice(&delivery.payload).expect("payload is json");
        assert_eq!(payload["repository"]["name"], "testrepo");
        assert!(matches!(parse("issues", &delivery.payload), Ok(Trigger::Ignored { .. })));
    }
}

#[test]
fn go_playground_vectors_verify_over_the_raw_files() {
    let Some((dir, v)) = vectors() else { return };
    let g = &v["go_playground_payloads_computed"];
    let secret = SecretString::from(s(&g["secret"]).to_owned());
    let list = g["vectors"].as_array().expect("vectors");
    assert_eq!(list.len(), 13);
    for vec in list {
        let file = s(&vec["file"]);
        let body = std::fs::read(dir.join(file)).expect("payload file");
        assert_eq!(body.len() as u64, vec["raw_bytes"].as_u64().expect("size"), "{file}");
        let headers = DeliveryHeaders::from_pairs([
            ("X-GitHub-Event", s(&vec["x_github_event"])),
            ("X-Hub-Signature-256", s(&vec["x_hub_signature_256"])),
            ("X-Hub-Signature", s(&vec["x_hub_signature"])),
            ("Content-Type", "application/json"),
        ]);
        check_vector(&headers, &body, &secret, file);
        let delivery = verify(&headers, &body, &secret).expect("verified");
        parse(&delivery.event_name, &delivery.payload).expect("parsed or ignored");
    }
}
