//! Property tests of intake: forged deliveries never build, arbitrary bytes never panic.

use kiln_core::project::{Resolver, load_catalog};
use kiln_core::webhook::{Delivery, DeliveryHeaders, check_signature, parse, sign, verify};
use proptest::prelude::*;
use secrecy::SecretString;

const PUSH: &str = r#"{"ref":"refs/heads/main","before":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","after":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","created":false,"deleted":false,"forced":false,"commits":[{"message":"m","added":["a"],"modified":[],"removed":[]}],"head_commit":{"message":"m"},"repository":{"full_name":"octo/repo"},"sender":{"id":1}}"#;

fn resolver() -> Resolver {
    let catalog = load_catalog(
        r#"{"name": "proj", "source": {"location": "https://github.com/octo/repo"},
            "webhook": {"filterGroups": [[{"type": "EVENT", "pattern": "PUSH"}]]}}"#,
    )
    .expect("catalog");
    Resolver::new(&catalog).expect("resolver")
}

fn headers(signature: Option<String>) -> DeliveryHeaders {
    DeliveryHeaders {
        event: Some("push".into()),
        delivery: Some("d".into()),
        user_agent: Some("GitHub-Hookshot/1".into()),
        signature_256: signature,
        signature_sha1: None,
        content_type: Some("application/json".into()),
    }
}

#[test]
fn the_right_signature_builds() {
    let secret = SecretString::from("right".to_owned());
    let h = headers(Some(sign(PUSH.as_bytes(), &secret)));
    let intake = resolver().intake(&h, PUSH.as_bytes(), &secret).expect("taken in");
    assert_eq!(intake.resolution.builds.len(), 1);
}

proptest! {
    #[test]
    fn a_wrong_or_absent_signature_never_builds(
        signature in proptest::option::of(any::<String>()),
        key in "[a-z]{1,20}",
    ) {
        let secret = SecretString::from("right".to_owned());
        let forged = SecretString::from(format!("{key}!"));
        let candidates = [signature, Some(sign(PUSH.as_bytes(), &forged))];
        for sig in candidates {
            let result = resolver().intake(&headers(sig), PUSH.as_bytes(), &secret);
            prop_assert!(result.is_err());
        }
    }

    #[test]
    fn a_changed_body_never_builds(at in 0..PUSH.len(), bit in 0u8..8) {
        let secret = SecretString::from("right".to_owned());
        let h = headers(Some(sign(PUSH.as_bytes(), &secret)));
        let mut body = PUSH.as_bytes().to_vec();
        body[at] ^= 1 << bit;
        prop_assert!(resolver().intake(&h, &body, &secret).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        event in prop_oneof!["push", "pull_request", "release", "ping", "issues", ".*"],
        sig in proptest::option::of(".*"),
        content_type in proptest::option::of(prop_oneof!["application/json", "application/x-www-form-urlencoded", ".*"]),
    ) {
        let secret = SecretString::from("k".to_owned());
        let _ = parse(&event, &body);
        let _ = Delivery::unsigned(&event, &body);
        let mut h = headers(sig);
        h.event = Some(event.clone());
        h.content_type = content_type;
        let _ = check_signature(&h, &body, &secret);
        h.signature_256 = Some(sign(&body, &secret));
        if let Ok(d) = verify(&h, &body, &secret)
            && let Ok(t) = parse(&d.event_name, &d.payload) {
                let _ = resolver().resolve(&d, &t, kiln_core::project::Extra::default());
            }
    }

    #[test]
    fn json_shaped_noise_never_panics(
        reference in ".*", before in "[0-9a-f]{0,41}", after in "[0-9a-f]{40}",
        name in ".*", number in any::<u64>(), id in any::<u64>(),
    ) {
        let body = serde_json::json!({
            "ref": reference, "before": before, "after": after,
            "repository": {"full_name": name}, "sender": {"id": id},
            "action": "opened", "number": number,
            "pull_request": {"number": number, "head": {"ref": reference, "sha": after},
                             "base": {"ref": name, "sha": after}},
            "release": {"tag_name": reference, "name": name}
        });
        let raw = serde_json::to_vec(&body).expect("json");
        for event in ["push", "pull_request", "release"] {
            if let Ok(t) = parse(event, &raw) {
                let d = Delivery::unsigned(event, &raw).expect("small body");
                let _ = resolver().resolve(&d, &t, kiln_core::project::Extra::default());
            }
        }
    }
}
