//! The buildspec parser against the real buildspecs of the shared corpus: every file is
//! judged as `INDEX.tsv` says, every invalid one has an error on the line that is wrong.

use std::fs;
use std::path::Path;

use kiln_core::buildspec::parse;
use kiln_tests::corpora;

/// The line each invalid corpus file is wrong at, decided by reading the file.
const ERROR_LINES: &[(&str, u32)] = &[
    // `set-shell:` is not a phase name.
    ("aws-amplify__amplify-cli__codebuild_specs_prepare_build.yml", 4),
    ("aws-amplify__amplify-cli__codebuild_specs_prepare-build.yml", 4),
    // `dotnet add ...` is neither a list item nor a key among list items.
    ("aws__aws-encryption-sdk-python__codebuild_py312_decrypt_hkeyring_with_net.yml", 26),
    // `*INFERENCE_CONTEXT` refers to an anchor the file never defines.
    ("aws__deep-learning-containers__huggingface_pytorch_training_buildspec-neuron.yml", 44),
    // `*ACCOUNT_ID` refers to an anchor the file never defines.
    ("aws__deep-learning-containers__pytorch_buildspec-1-9-0.yml", 10),
    // `version: 2.0.0` (and no phases).
    ("aws__deep-learning-containers__pytorch_inference_buildspec-2-0-rc2.yml", 4),
    // `post-build:` is not a phase name.
    ("aws__s2n-tls__codebuild_spec_buildspec_unit_coverage.yml", 34),
    // No `version`: the error is at the document's mapping.
    ("aws__s2n-tls__codebuild_spec_buildspec_unit_nix.yaml", 2),
];

/// Files whose INDEX verdict contradicts the file's content, with the file that proves it.
///
/// `prepare-build.yml` is byte for byte the same as `prepare_build.yml`, which INDEX marks
/// invalid (its `set-shell` and `build-tests` phases are not phase names); both are invalid.
const INDEX_CORRECTIONS: &[(&str, &str, &str)] = &[(
    "aws-amplify__amplify-cli__codebuild_specs_prepare-build.yml",
    "aws-amplify__amplify-cli__codebuild_specs_prepare_build.yml",
    "invalid",
)];

fn index(dir: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let mut expected = cols[4].to_owned();
            if let Some((_, twin, verdict)) =
                INDEX_CORRECTIONS.iter().find(|(f, _, _)| *f == cols[0])
            {
                let same = fs::read(dir.join(cols[0])).expect("file")
                    == fs::read(dir.join(twin)).expect("twin");
                assert!(same, "{} no longer matches {twin}: drop the correction", cols[0]);
                expected = (*verdict).to_owned();
            }
            (cols[0].to_owned(), expected)
        })
        .collect()
}

#[test]
fn corpus_is_judged_as_index_says() {
    let Some(dir) = corpora() else { return };
    let dir = dir.join("buildspecs");
    let mut failures = Vec::new();
    let files = index(&dir);
    assert!(files.len() >= 50, "the corpus index lists {} files", files.len());
    for (file, expected) in &files {
        let text = fs::read_to_string(dir.join(file)).expect("corpus file");
        let parsed = parse(&text);
        let valid = parsed.is_valid();
        if valid != (expected == "valid") {
            let all: Vec<String> = parsed.diagnostics.iter().map(|d| d.headline(file)).collect();
            failures.push(format!(
                "{file}: expected {expected}, kiln says valid={valid}\n  {}",
                all.join("\n  ")
            ));
            continue;
        }
        if expected == "invalid" {
            match ERROR_LINES.iter().find(|(f, _)| f == file) {
                Some((_, line)) => {
                    if !parsed.errors().any(|d| d.position.line == *line) {
                        let lines: Vec<u32> = parsed.errors().map(|d| d.position.line).collect();
                        failures
                            .push(format!("{file}: no error on line {line}; errors on {lines:?}"));
                    }
                }
                None => failures
                    .push(format!("{file}: invalid, but no expected error line is recorded")),
            }
        } else if let Some(spec) = &parsed.buildspec {
            let commands: usize = kiln_core::buildspec::PhaseName::ALL
                .iter()
                .filter_map(|p| spec.phases.get(*p))
                .map(|p| p.commands.len())
                .sum();
            if commands == 0 && spec.batch.is_none() {
                failures.push(format!("{file}: valid but no command was read"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every diagnostic of the corpus, so a change in wording or position shows in review.
#[test]
fn corpus_diagnostics_snapshot() {
    let Some(dir) = corpora() else { return };
    let dir = dir.join("buildspecs");
    let mut out = String::new();
    for (file, _) in index(&dir) {
        let text = fs::read_to_string(dir.join(&file)).expect("corpus file");
        for d in parse(&text).diagnostics {
            out.push_str(&d.render(&file, &text));
            out.push('\n');
        }
    }
    insta::assert_snapshot!(out);
}

mod schema_check;

/// Small buildspecs covering each kind of value, with whether the parser accepts them.
const SCHEMA_CASES: &[&str] = &[
    "version: 0.2\nphases: {}\n",
    "version: '0.2'\nphases:\n  build:\n    commands: [make]\n",
    "version: 0.1\nphases:\n  build:\n",
    "version: 0.3\nphases: {}\n",
    "phases: {}\n",
    "version: 0.2\n",
    "version: 0.2\nbatch:\n  build-list:\n    - identifier: a\n",
    "version: 0.2\nbatch:\n  build-list: [{identifier: a}]\n  build-graph: [{identifier: b}]\n",
    "version: 0.2\nbatch:\n  build-list: [{buildspec: x.yml}]\n",
    "version: 0.2\nphases:\n  postbuild:\n    commands: [make]\n",
    "version: 0.2\nphases:\n  build:\n    commands: make\n",
    "version: 0.2\nphases:\n  build:\n    commands:\n      - yes\n",
    "version: 0.2\nphases:\n  build:\n    commands:\n      - 'yes'\n      - |\n        make\n",
    "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n",
    "version: 0.2\nphases:\n  build:\n    on-failure: RETRY-3\n    finally: [x]\n",
    "version: 0.2\nphases:\n  build:\n    on-failure: abort\n",
    "version: 0.2\nphases: {}\nartifacts:\n  files: out.zip\n  discard-paths: Yes\n",
    "version: 0.2\nphases: {}\nartifacts:\n  discard-paths: maybe\n  files: [a]\n",
    "version: 0.2\nphases: {}\nartifacts:\n  name: x\n",
    "version: 0.2\nphases: {}\nartifacts:\n",
    "version: 0.2\nphases: {}\nreports:\n  unit:\n    files: [a.xml]\n    file-format: junitxml\n",
    "version: 0.2\nphases: {}\nreports:\n  unit:\n    files: [a.xml]\n    file-format: junit\n",
    "version: 0.2\nphases: {}\ncache:\n  paths: [x]\n  action: save\n  foo: 1\n",
    "version: 0.2\nphases: {}\ncache:\n  action: both\n",
    "version: 0.2\nenv:\n  shell: bash\n  variables:\n    A: yes\n    B: 3.10\n  git-credential-helper: no\nphases: {}\n",
    "version: 0.2\nenv:\n  shell: zsh\nphases: {}\n",
    "version: 0.2\nenv:\n  variables:\n    A: [x]\nphases: {}\n",
    "version: 0.2\nenv:\n  variables: [A]\nphases: {}\n",
    "version: 0.2\nproxy:\n  logs: on\nphases: {}\n",
    "version: 0.2\nphases:\n  build:\n    commands:\n      -\n      - make\n      - # off\n",
    "version: 0.2\nbatch:\n  build-matrix:\n    dynamic:\n      - env:\n          variables:\n            A: [x]\n      - buildspec: [b.yml]\n",
    "version: 0.2\nbatch:\n  build-matrix:\n    dynamic:\n      - [x]\n",
];

/// The schema accepts what the parser accepts and rejects what it rejects, over the corpus
/// and over small cases of every kind of value.
#[test]
fn schema_agrees_with_the_parser() {
    let schema = kiln_core::buildspec::schema::json_schema();
    let mut texts: Vec<(String, String)> = SCHEMA_CASES
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("case {i}"), (*t).to_owned()))
        .collect();
    if let Some(dir) = corpora() {
        let dir = dir.join("buildspecs");
        for (file, _) in index(&dir) {
            texts.push((file.clone(), fs::read_to_string(dir.join(&file)).expect("corpus file")));
        }
    }
    let mut disagreements = Vec::new();
    let (mut compared, mut rejected) = (0, 0);
    for (name, text) in &texts {
        let Ok(document) = kiln_core::yaml::parse(text) else { continue };
        let Some(root) = document.root else { continue };
        let by_parser = parse(text).is_valid();
        let by_schema = schema_check::is_valid(&schema, &root.to_json())
            .expect("the checker knows every keyword");
        compared += 1;
        rejected += usize::from(!by_schema);
        if by_parser != by_schema {
            disagreements.push(format!(
                "{name}: parser valid={by_parser}, schema valid={by_schema}\n{text}"
            ));
        }
    }
    assert!(compared >= SCHEMA_CASES.len(), "compared {compared}");
    assert!(rejected >= 15 && compared - rejected >= 15, "{rejected} of {compared} rejected");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The committed schema is what `kiln schema` prints today.
#[test]
fn committed_schema_is_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/buildspec.schema.json");
    let committed: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).expect("schema/buildspec.schema.json"))
            .expect("json");
    assert_eq!(committed, kiln_core::buildspec::schema::json_schema(), "run scripts/generate");
}

/// A corpus file with up to a few edits: a line removed, a line duplicated, a range of
/// characters deleted or YAML punctuation inserted.
fn mutate(text: &str, edits: &[(u8, usize, usize)]) -> String {
    let mut text = text.to_owned();
    for &(kind, a, b) in edits {
        let bounds: Vec<usize> =
            text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect();
        let at = bounds[a % bounds.len()];
        let to = bounds[(a + b % 40) % bounds.len()].max(at);
        match kind % 4 {
            0 => text.replace_range(at..to, ""),
            1 => {
                let tokens = [
                    ": ", "- ", "\n", "  ", "'", "\"", "[", "{", "&a ", "*a", "<<: ", "|", "#",
                    "\t",
                ];
                text.insert_str(at, tokens[b % tokens.len()]);
            }
            2 => {
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    lines.remove(a % lines.len());
                }
                text = lines.join("\n");
            }
            _ => {
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                if !lines.is_empty() {
                    let line = lines[a % lines.len()].clone();
                    lines.insert(b % lines.len(), line);
                }
                text = lines.join("\n");
            }
        }
    }
    text
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Parsing never panics on damaged real buildspecs, and its results stay coherent.
    #[test]
    fn mutated_corpus_files_never_panic(
        pick in 0usize..1000,
        edits in proptest::collection::vec((0u8..4, 0usize..100_000, 0usize..1000), 1..4),
    ) {
        let Some(dir) = corpora() else { return Ok(()) };
        let dir = dir.join("buildspecs");
        let files = index(&dir);
        let (file, _) = &files[pick % files.len()];
        let text = mutate(&fs::read_to_string(dir.join(file)).expect("corpus file"), &edits);
        let parsed = parse(&text);
        proptest::prop_assert_eq!(parsed.is_valid(), parsed.errors().next().is_none());
        proptest::prop_assert!(parsed.diagnostics.windows(2).all(|w| w[0].position <= w[1].position));
        for d in &parsed.diagnostics {
            let _ = d.render(file, &text);
        }
    }
}
