//! Every real payload of the shared webhook corpus has the shape of its own event (or none
//! kiln knows), fits its own event name, and is refused under the name of every event kiln
//! reads that it is not.

use std::path::PathBuf;

use kiln_core::webhook::{GITHUB_EVENTS, check_event_name, check_shape, shape_of};

fn webhooks() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/webhooks");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent (no ../shared beside this checkout)", dir.display());
        None
    }
}

/// `<source>__<event>[.<action>]__<n>.json` → `<event>`.
fn event_of(file: &str) -> &str {
    let middle = file.split("__").nth(1).unwrap_or_default();
    middle.split('.').next().unwrap_or_default()
}

#[test]
fn every_corpus_payload_fits_its_own_event_and_no_other_read_event() {
    let Some(dir) = webhooks() else { return };
    let mut checked = 0;
    let mut shaped = 0;
    for entry in std::fs::read_dir(dir).expect("corpus") {
        let path = entry.expect("entry").path();
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if !file.ends_with(".json") || file == "signature-test-vectors.json" {
            continue;
        }
        let event = event_of(&file);
        let body = std::fs::read(&path).expect("payload");
        assert_eq!(check_event_name(event), Ok(()), "{file}: {event} is a GitHub event");
        assert_eq!(check_shape(event, &body), Ok(()), "{file}");
        if let Some(shape) = shape_of(&body) {
            shaped += 1;
            assert_eq!(shape.event, event, "{file}");
            for other in
                ["push", "pull_request", "release", "ping"].into_iter().filter(|o| *o != event)
            {
                let err = check_shape(other, &body).expect_err(&format!("{file} as {other}"));
                assert!(
                    err.to_string().contains(&format!("looks like a {event} delivery")),
                    "{err}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked} payloads");
    assert!(shaped > 90, "only {shaped} of {checked} payloads have a known shape");
}

#[test]
fn every_shape_names_a_github_event() {
    for (event, _) in kiln_core::webhook::SHAPES {
        assert!(GITHUB_EVENTS.contains(event), "{event}");
    }
}
