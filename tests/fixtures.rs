//! The wire contracts (`Build` records, `BuildDescription`, `BuildSummary`) against their
//! fixtures: each fixture parses, serialises back to exactly itself, and has the shape its
//! format version was released with. A change of shape without a new format version fails here:
//! bump the type's `*_FORMAT`, add a `*.v<N>.json` fixture and its shape below.

use std::collections::BTreeSet;
use std::path::PathBuf;

use kiln_core::build::{
    Build, BuildDescription, BuildSummary, DESCRIPTION_FORMAT, RECORD_FORMAT, SUMMARY_FORMAT,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The shape of each released format: a digest of every key path the document has.
const SHAPES: &[(&str, u32, &str)] = &[
    ("build-description", 1, "63495344a3"),
    ("build-record", 1, "28e60eca71"),
    ("build-summary", 1, "c6ab1cdc5d"),
];

fn fixture(name: &str, version: u32) -> (Vec<u8>, Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.v{version}.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value = serde_json::from_slice(&bytes).expect("fixture is JSON");
    (bytes, value)
}

/// Every key path of `value` (`phases[].contexts[].statusCode`), sorted.
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(path.clone());
                key_paths(v, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn shape(value: &Value) -> String {
    let mut paths = BTreeSet::new();
    key_paths(value, "", &mut paths);
    let joined = paths.into_iter().collect::<Vec<_>>().join("\n");
    hex::encode(Sha256::digest(joined.as_bytes()))[..10].to_owned()
}

fn released_shape(name: &str, version: u32) -> &'static str {
    SHAPES
        .iter()
        .find(|(n, v, _)| *n == name && *v == version)
        .map(|(_, _, s)| *s)
        .unwrap_or_else(|| panic!("no released shape for {name} v{version}: add it to SHAPES"))
}

fn check<T: serde::Serialize>(name: &str, version: u32, parsed: &T, original: &Value) {
    let again = serde_json::to_value(parsed).expect("serialises");
    assert_eq!(&again, original, "{name} v{version} does not serialise back to its fixture");
    assert_eq!(
        shape(original),
        released_shape(name, version),
        "{name} v{version} changed shape: bump its format version and add a new fixture"
    );
}

#[test]
fn the_description_round_trips_and_keeps_its_shape() {
    let (bytes, value) = fixture("build-description", DESCRIPTION_FORMAT);
    let parsed = BuildDescription::from_json(&bytes).expect("a description");
    check("build-description", DESCRIPTION_FORMAT, &parsed, &value);
    let reparsed =
        BuildDescription::from_json(&serde_json::to_vec(&parsed).expect("json")).expect("again");
    assert_eq!(reparsed, parsed);
}

#[test]
fn the_summary_round_trips_and_keeps_its_shape() {
    let (bytes, value) = fixture("build-summary", SUMMARY_FORMAT);
    let parsed = BuildSummary::from_json(&bytes).expect("a summary");
    check("build-summary", SUMMARY_FORMAT, &parsed, &value);
    let reparsed =
        BuildSummary::from_json(parsed.to_json().expect("json").as_bytes()).expect("again");
    assert_eq!(reparsed, parsed);
}

#[test]
fn the_record_round_trips_and_keeps_its_shape() {
    let (_, value) = fixture("build-record", RECORD_FORMAT);
    let parsed: Build = serde_json::from_value(value.clone()).expect("a record");
    check("build-record", RECORD_FORMAT, &parsed, &value);
}

#[test]
fn another_format_is_refused_by_name() {
    let (_, mut value) = fixture("build-description", DESCRIPTION_FORMAT);
    value["kilnDescriptionFormat"] = Value::from(DESCRIPTION_FORMAT + 1);
    let e = BuildDescription::from_json(&serde_json::to_vec(&value).expect("json"))
        .expect_err("refused");
    assert!(e.to_string().contains("is not supported"), "{e}");
    let (_, mut value) = fixture("build-summary", SUMMARY_FORMAT);
    value.as_object_mut().expect("object").remove("kilnSummaryFormat");
    let e =
        BuildSummary::from_json(&serde_json::to_vec(&value).expect("json")).expect_err("refused");
    assert!(e.to_string().contains("kilnSummaryFormat is missing"), "{e}");
}
