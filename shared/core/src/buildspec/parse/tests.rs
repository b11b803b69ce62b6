//! One test per error and warning class, with the exact rendered text snapshotted, and the
//! model read from a buildspec that uses every key.

use super::top::parse;
use crate::buildspec::Version;
use crate::buildspec::{
    BatchKind, CacheAction, OnFailure, Phase, ReportFormat, Shell, SkippedCommand,
};
use crate::diagnostic::{Diagnostic, Position};

/// Every diagnostic rendered as `kiln validate` prints it.
fn render(text: &str) -> String {
    let parsed = parse(text);
    let mut out: Vec<String> = parsed
        .diagnostics
        .iter()
        .map(|d| format!("[{}] {}", d.path, d.render("buildspec.yml", text)))
        .collect();
    out.push(format!("valid: {}", parsed.is_valid()));
    out.join("\n")
}

macro_rules! case {
    ($name:ident, $text:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(render($text));
        }
    };
}

// Errors.
case!(yaml_syntax_error, "version: 0.2\nphases:\n  build:\n    commands: a: b\n");
case!(
    yaml_stray_line_in_list,
    "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n      # then\n      make test\n      - make install\n"
);
case!(empty_file, "# nothing\n");
case!(not_a_mapping, "- version: 0.2\n");
case!(missing_version, "phases:\n  build:\n    commands:\n      - make\n");
case!(unsupported_version, "version: 1.0\nphases:\n  build:\n    commands:\n      - make\n");
case!(missing_phases, "version: 0.2\nenv:\n  variables:\n    A: b\n");
case!(
    unknown_phase,
    "version: 0.2\nphases:\n  postbuild:\n    commands:\n      - make\n  setup:\n    commands:\n      - make\n"
);
case!(
    misspelt_phases,
    "version: 0.2\nphases:\n  biuld:\n    commands: [make]\n  pre-build:\n    commands: [make]\n  PostBuild:\n    commands: [make]\n  isntall:\n    commands: [make]\n"
);
case!(
    json_syntax_error,
    "{\n  \"version\": 0.2,\n  \"phases\": {\"build\": {\"commands\": [\"make\"]}}\n  \"artifacts\": {}\n}\n"
);
case!(commands_as_a_string, "version: 0.2\nphases:\n  build:\n    commands: make all\n");
case!(
    commands_not_strings,
    "version: 0.2\nphases:\n  build:\n    commands:\n      - yes\n      - 123\n      -\n      - 0.5\n      - 'yes'\n"
);
case!(
    command_read_as_mapping,
    "version: 0.2\nphases:\n  build:\n    commands:\n      - echo result: ok\n    finally:\n      - [a, b]\n"
);
case!(
    wrong_types,
    "version: 0.2\nenv: [a]\nphases:\n  build: make\nartifacts:\n  files:\n    a: b\n  base-directory: [x]\n"
);
case!(
    invalid_booleans,
    "version: 0.2\nenv:\n  git-credential-helper: maybe\nphases: {}\nartifacts:\n  files: [a]\n  discard-paths: 1\n"
);
case!(
    batch_more_than_one_shape,
    "version: 0.2\nbatch:\n  build-list:\n    - identifier: a\n  build-matrix:\n    static: {}\n  build-graph:\n    - identifier: b\n"
);
case!(
    batch_graph_problems,
    "version: 0.2\nbatch:\n  build-graph:\n    - identifier: a\n      depend-on: [c]\n    - identifier: b\n      depend-on:\n        - aa\n    - identifier: a\n    - buildspec: x.yml\n"
);
case!(
    batch_graph_cycle,
    "version: 0.2\nbatch:\n  build-graph:\n    - identifier: one\n      depend-on: [three]\n    - identifier: two\n      depend-on: [one]\n    - identifier: three\n      depend-on: [two]\n    - identifier: four\n      depend-on: [one]\n"
);
case!(
    on_failure_invalid,
    "version: 0.2\nphases:\n  install:\n    on-failure: abort\n  pre_build:\n    on-failure: RETRY-101\n  build:\n    on-failure: RETRY-2-(unclosed\n  post_build:\n    on-failure: STOP\n"
);
case!(
    report_file_format_unknown,
    "version: 0.2\nphases: {}\nreports:\n  unit:\n    files: [r.xml]\n    file-format: JUNIT\n  coverage:\n    base-directory: cov\n"
);
case!(
    artifacts_files_missing,
    "version: 0.2\nphases: {}\nartifacts:\n  name: out\n  secondary-artifacts:\n    extra:\n      base-directory: x\n"
);
case!(
    secret_stage_and_id,
    "version: 0.2\nenv:\n  secrets-manager:\n    DB: prod/db:password:AWSCURRENT:v1\n    EMPTY: ':key'\nphases: {}\n"
);
case!(cache_action_unknown, "version: 0.2\nphases: {}\ncache:\n  paths: [x]\n  action: restor\n");
case!(unknown_shell, "version: 0.2\nenv:\n  shell: zsh\nphases: {}\n");

// Warnings.
case!(
    unknown_keys,
    "version: 0.2\nphases:\n  build:\n    comands:\n      - make\nartifact:\n  files: [a]\ncache:\n  paths: [x]\n  foo: 1\n"
);
case!(
    reserved_variable_names,
    "version: 0.2\nenv:\n  variables:\n    CODEBUILD_BUILD_ID: x\n    OK: fine\nphases: {}\n"
);
case!(
    aws_names_cannot_be_exported,
    "version: 0.2\nenv:\n  exported-variables:\n    - IMAGE_TAG\n    - AWS_REGION\nphases: {}\n"
);
case!(
    reserved_names_in_a_build_matrix,
    "version: 0.2\nbatch:\n  build-matrix:\n    dynamic:\n      env:\n        variables:\n          CODEBUILD_X: [a, b]\n          TARGET: [x86, arm]\nphases: {}\n"
);
case!(
    same_name_in_two_env_maps,
    "version: 0.2\nenv:\n  variables:\n    TOKEN: x\n  parameter-store:\n    TOKEN: /ci/token\n  secrets-manager:\n    TOKEN: ci:token\nphases: {}\n"
);
case!(
    version_0_2_features_in_0_1,
    "version: 0.1\nrun-as: builder\nenv:\n  exported-variables: [A]\nphases:\n  build:\n    on-failure: ABORT\n    commands: [make]\n    finally: [echo done]\ncache:\n  paths: [x]\n  key: k\n"
);
case!(
    runtime_versions,
    "version: 0.2\nphases:\n  install:\n    runtime-versions:\n      python: 3.12\n  build:\n    runtime-versions:\n      java: corretto17\n"
);
case!(
    dollar_in_variable_value,
    "version: 0.2\nenv:\n  variables:\n    P: $PATH:/opt/bin\n    Q: \"${HOME}/x\"\n    PRICE: costs $5\nphases: {}\n"
);
case!(
    variable_values_become_strings,
    "version: 0.2\nenv:\n  variables:\n    A: yes\n    B: 3.10\n    C: 010\n    D: 3\n    E: 'yes'\n    F: ~\n    G: [a]\nphases: {}\n"
);
case!(
    duplicate_keys,
    "version: 0.2\nphases:\n  build:\n    commands: [a]\n  build:\n    commands: [b]\n"
);
case!(
    environment_variables_in_0_2,
    "version: 0.2\nenvironment_variables:\n  plaintext:\n    HUGO: \"0.42\"\n    A: old\nenv:\n  variables:\n    A: new\nphases: {}\n"
);
case!(
    environment_variables_in_0_1,
    "version: 0.1\nenvironment_variables:\n  plaintext:\n    JAVA_HOME: /usr/lib/jvm\n    CODEBUILD_X: y\n  secret: z\nphases: {}\n"
);
case!(more_than_one_document, "version: 0.2\nphases: {}\n---\nversion: 0.1\n");
case!(
    cache_fallback_keys,
    "version: 0.2\nphases: {}\ncache:\n  paths: [x]\n  fallback-keys: [a]\n"
);
case!(
    cache_too_many_fallback_keys,
    "version: 0.2\nphases: {}\ncache:\n  key: k\n  fallback-keys: [a, b, c, d, e, f]\n"
);
case!(
    batch_task_unknown_key,
    "version: 0.2\nbatch:\n  build-list:\n    - identifier: a\n      comment: hello\n      depend-on: [b]\n"
);
case!(
    batch_identifier_empty,
    "version: 0.2\nbatch:\n  build-list:\n    - identifier:\n    - identifier: ''\n"
);
case!(
    explicit_string_tag,
    "version: 0.2\nphases:\n  build:\n    commands:\n      - !!str 123\n      - !!str yes\n"
);
case!(single_string_as_list, "version: 0.2\nphases: {}\nartifacts:\n  files: out.zip\n");
case!(
    nul_characters_in_variables_and_commands,
    "version: 0.2\nenv:\n  variables:\n    OK: fine\n    BAD: \"a\\0b\"\n    \"N\\0\": x\nbatch:\n  build-matrix:\n    dynamic:\n      env:\n        variables:\n          V: [\"\\0\", ok]\nphases:\n  build:\n    commands:\n      - \"echo \\0\"\n"
);
case!(
    null_command_items,
    "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a\n      -\n      - # was: make lint\n      - ~\n      - echo b\n    finally:\n      -\n"
);
case!(
    build_matrix_dynamic_as_a_list,
    "version: 0.2\nbatch:\n  build-matrix:\n    dynamic:\n      - buildspec: [a.yml]\n        env:\n          variables:\n            LIBCRYPTO: [openssl, awslc]\n      - env:\n          image: [img]\n          variables:\n            LIBCRYPTO: [awslc, boringssl]\n      - [not, a, mapping]\nphases: {}\n"
);
case!(
    paths_outside_the_source,
    "version: 0.2\nphases: {}\nreports:\n  unit:\n    files: ['../state/r.xml']\n    base-directory: /abs\nartifacts:\n  files:\n    - ../state/restore.sh\n    - /etc/passwd\n    - dist/../out/*\n    - ok/**/*\n  base-directory: ..\n  exclude-paths: ['../x']\n  secondary-artifacts:\n    extra:\n      files: a/../../b\ncache:\n  paths: ['/root/.m2/**/*', '../up/**/*', 'a/../b']\n"
);

#[test]
fn versions_as_numbers_and_strings() {
    for (text, version) in [
        ("0.2", Version::V0_2),
        ("\"0.2\"", Version::V0_2),
        ("0.20", Version::V0_2),
        ("'0.1'", Version::V0_1),
        ("0.1", Version::V0_1),
    ] {
        let parsed = parse(&format!("version: {text}\nphases: {{}}\n"));
        assert_eq!(parsed.buildspec.map(|b| b.version), Some(version), "{text}");
    }
    assert!(!parse("version: 0.3\nphases: {}\n").is_valid());
    assert!(!parse("version: yes\nphases: {}\n").is_valid());
}

#[test]
fn environment_variables_plaintext_is_read_as_env_variables() {
    let text = "version: 0.1\nenvironment_variables:\n  plaintext:\n    JAVA_HOME: /usr/lib/jvm\n    N: 3\nenv:\n  variables:\n    N: 4\nphases: {}\n";
    let parsed = parse(text);
    let b = parsed.buildspec.expect("valid");
    let vars: Vec<(&str, &str)> =
        b.env.variables.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(vars, [("N", "4"), ("JAVA_HOME", "/usr/lib/jvm")]);
}

#[test]
fn null_command_items_are_skipped_where_they_stand() {
    let text = "version: 0.2\nphases:\n  build:\n    commands:\n      -\n      - make\n      - # off\n      - make test\n    finally:\n      - ~\n";
    let parsed = parse(text);
    let build = parsed.buildspec.and_then(|b| b.phases.build).expect("valid, with a build phase");
    let commands: Vec<&str> = build.commands.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(commands, ["make", "make test"]);
    assert!(build.finally.is_empty());
    let skipped = |list: &[SkippedCommand]| {
        list.iter().map(|s| (s.index, s.after, s.position)).collect::<Vec<_>>()
    };
    assert_eq!(
        skipped(&build.skipped_commands),
        [(0, 0, Position::new(5, 7)), (2, 1, Position::new(7, 7))]
    );
    assert_eq!(skipped(&build.skipped_finally), [(0, 0, Position::new(10, 9))]);
    assert_eq!(parsed.diagnostics.len(), 3);
    assert!(parsed.diagnostics.iter().all(|d| !d.is_error()));
}

#[test]
fn a_dynamic_matrix_written_as_a_list_is_merged() {
    let text = "version: 0.2\nbatch:\n  build-matrix:\n    dynamic:\n      - env:\n          variables:\n            LIB: [openssl, awslc]\n            MODE: [a, a]\n      - buildspec: [x.yml]\n        env:\n          compute-type: [BUILD_GENERAL1_LARGE]\n          variables:\n            LIB: [awslc, boringssl]\n            TESTS: [unit]\n";
    let parsed = parse(text);
    assert_eq!(parsed.warnings().count(), 1, "{:?}", parsed.diagnostics);
    let batch = parsed.buildspec.and_then(|b| b.batch).expect("valid, with a batch");
    let Some(BatchKind::Matrix(m)) = batch.kind else { panic!("a matrix: {batch:?}") };
    assert_eq!(m.dynamic_buildspecs, ["x.yml"]);
    assert_eq!(m.dynamic_compute_types, ["BUILD_GENERAL1_LARGE"]);
    let vars: Vec<(&str, Vec<&str>)> = m
        .dynamic_variables
        .iter()
        .map(|(n, v)| (n.as_str(), v.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        vars,
        [
            ("LIB", vec!["openssl", "awslc", "boringssl"]),
            ("MODE", vec!["a", "a"]),
            ("TESTS", vec!["unit"]),
        ]
    );
    let mapping =
        text.replace("      - env:", "      env:").replace("      - buildspec", "      buildspec");
    assert!(!parse(&mapping).diagnostics.iter().any(|d| d.message.contains("written as a list")));
}

#[test]
fn phases_may_be_empty() {
    assert!(parse("version: 0.2\nphases:\n").is_valid());
    let parsed = parse("version: 0.2\nphases:\n  build:\n  install:\n    commands:\n");
    assert!(parsed.is_valid(), "{:?}", parsed.diagnostics);
    let spec = parsed.buildspec.expect("valid");
    assert_eq!(spec.phases.build, Some(Phase::default()));
}

#[test]
fn booleans_in_any_spelling() {
    for (text, expected) in [
        ("yes", true),
        ("No", false),
        ("TRUE", true),
        ("off", false),
        ("'On'", true),
        ("\"false\"", false),
    ] {
        let parsed = parse(&format!(
            "version: 0.2\nphases: {{}}\nartifacts:\n  files: [a]\n  discard-paths: {text}\n"
        ));
        let spec = parsed.buildspec.expect("valid");
        assert_eq!(spec.artifacts.map(|a| a.discard_paths), Some(expected), "{text}");
    }
}

const FULL: &str = r#"version: 0.2
run-as: builder
env:
  shell: bash
  variables:
    JAVA_HOME: /usr/lib/jvm/java-17
    FLAG: yes
    PY: "3.10"
  parameter-store:
    LOGIN: /ci/login
  secrets-manager:
    DB_PASSWORD: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:password::v7
    TOKEN: ci/token:value:AWSPREVIOUS
  exported-variables: [IMAGE_TAG]
  git-credential-helper: On
proxy:
  upload-artifacts: no
  logs: Yes
batch:
  fast-fail: true
  build-graph:
    - identifier: base
      env:
        image: aws/codebuild/standard:7.0
        privileged-mode: yes
        type: ARM_CONTAINER
        compute-type: BUILD_GENERAL1_LARGE
        variables:
          N: 1
    - identifier: tests
      buildspec: ci/tests.yml
      depend-on: [base]
      ignore-failure: true
      debug-session: false
phases:
  install:
    run-as: root
    on-failure: ABORT
    commands:
      - apt-get update
  pre_build:
    on-failure: RETRY-2-timed out
    commands:
      - |
        make deps
        make check
  build:
    on-failure: CONTINUE
    commands:
      - make
    finally:
      - 'echo "done: yes"'
  post_build:
    on-failure: RETRY
reports:
  arn:aws:codebuild:us-east-1:123456789012:report-group/unit:
    files: ['**/*.xml']
    base-directory: target/reports
    discard-paths: yes
    file-format: cucumberjson
  coverage:
    files: [coverage.xml]
    file-format: COBERTURAXML
artifacts:
  files:
    - '**/*'
  name: build-$CODEBUILD_BUILD_NUMBER
  discard-paths: no
  base-directory: dist
  exclude-paths: ['**/*.map']
  enable-symlinks: yes
  s3-prefix: builds
  secondary-artifacts:
    docs:
      files: [index.html]
      base-directory: site
cache:
  paths: ['/root/.m2/**/*']
  key: m2-$(codebuild-hash-files pom.xml)
  fallback-keys: [m2-]
  action: restore
"#;

#[test]
fn every_key_reaches_the_model() {
    let parsed = parse(FULL);
    assert!(parsed.is_valid(), "{:#?}", parsed.diagnostics);
    let spec = parsed.buildspec.expect("valid");
    assert_eq!(spec.env.shell, Some(Shell::Bash));
    assert_eq!(spec.env.variables[1], ("FLAG".to_owned(), "true".to_owned()));
    assert_eq!(spec.env.variables[2], ("PY".to_owned(), "3.10".to_owned()));
    assert!(spec.env.git_credential_helper);
    assert!(spec.proxy.logs && !spec.proxy.upload_artifacts);
    let db = &spec.env.secrets_manager[0].1;
    assert_eq!(db.secret_id, "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf");
    assert_eq!(
        (db.json_key.as_deref(), db.version_stage.as_deref(), db.version_id.as_deref()),
        (Some("password"), None, Some("v7"))
    );
    let install = spec.phases.install.as_ref().expect("install");
    assert_eq!(install.on_failure, Some(OnFailure::Abort));
    assert_eq!(install.commands[0].position, Position::new(40, 9));
    let pre = spec.phases.pre_build.as_ref().expect("pre_build");
    assert_eq!(
        pre.on_failure,
        Some(OnFailure::Retry { count: 2, pattern: Some("timed out".into()) })
    );
    assert_eq!(pre.commands[0].text, "make deps\nmake check\n");
    assert_eq!(spec.phases.build.as_ref().expect("build").finally[0].text, "echo \"done: yes\"");
    assert_eq!(spec.reports[0].file_format, ReportFormat::CucumberJson);
    assert_eq!(spec.reports[1].file_format, ReportFormat::CoberturaXml);
    assert_eq!(spec.cache.as_ref().and_then(|c| c.action), Some(CacheAction::Restore));
    insta::assert_debug_snapshot!(spec);
}

/// What every parse result must satisfy, whatever the input.
fn check_invariants(text: &str) {
    let parsed = parse(text);
    let has_errors = parsed.diagnostics.iter().any(Diagnostic::is_error);
    assert_eq!(parsed.is_valid(), !has_errors);
    assert!(parsed.diagnostics.windows(2).all(|w| w[0].position <= w[1].position));
    let lines = u32::try_from(text.lines().count()).unwrap_or(u32::MAX).saturating_add(1);
    for d in &parsed.diagnostics {
        assert!(d.position.line >= 1 && d.position.line <= lines.max(1), "{d:?} in {lines} lines");
        let _ = d.render("f", text);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(text in proptest::prelude::any::<String>()) {
        check_invariants(&text);
    }

    #[test]
    fn yaml_like_strings_never_panic(
        text in "(version: 0\\.[12]\n)?([ a-z_:\\-\n'\"\\[\\]{}&*!|>#0-9.,?$~]|phases|commands|env|batch|build-graph|  |\n  - ){0,120}"
    ) {
        check_invariants(&text);
    }
}
