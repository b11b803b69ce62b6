//! `kiln run --config`: catalog errors and warnings as the user sees them, and the project
//! settings a build takes from the catalog.

use crate::support::Workspace;

const ECHO: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"A=$A B=$B\"\n";

fn with_catalog(ws: &Workspace, catalog: &str, args: &[&str]) -> crate::support::Run {
    let config = ws.path("projects.yaml");
    std::fs::write(&config, catalog).expect("catalog");
    let mut all = vec!["--config", config.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    ws.run(&all)
}

/// Every invalid value is an error on stderr with `FILE:LINE:COL`, the field path and the
/// offending line; the warnings found with them are shown too; exit 2 and no build.
#[test]
fn invalid_catalog_names_every_field_with_its_position() {
    let ws = Workspace::new(&[("buildspec.yml", ECHO)]);
    let run = with_catalog(
        &ws,
        "projects:\n  - name: proj\n    timeoutInMinutes: soon\n    colour: blue\n    artifacts:\n      type: S4\n",
        &["--project", "proj"],
    );
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(run.stdout.is_empty(), "no build ran\n{}", run.output());
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 2, "{}", run.output());
    assert!(
        errors[0].ends_with("projects.yaml:3:23: error: projects[0].timeoutInMinutes: project proj: timeoutInMinutes must be a whole number of minutes, not a string"),
        "{}",
        run.output()
    );
    assert!(
        errors[1].contains("projects.yaml:6:13: error: projects[0].artifacts.type:"),
        "{}",
        run.output()
    );
    assert!(run.stderr.contains("6 |       type: S4"), "{}", run.output());
    assert!(
        run.stderr.contains("projects.yaml:4:5: warning: projects[0].colour:"),
        "{}",
        run.output()
    );
}

/// A value of the wrong type (found while reading, not validating) also names its line.
#[test]
fn wrong_type_names_its_line_and_column() {
    let ws = Workspace::new(&[("buildspec.yml", ECHO)]);
    let run = with_catalog(
        &ws,
        "- name: proj\n  environment:\n    environmentVariables:\n      - {name: A, value: [x]}\n",
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(
        run.stderr.contains(
            "projects.yaml:4:26: error: [0].environment.environmentVariables[0].value: invalid type"
        ),
        "{}",
        run.output()
    );
}

/// A valid catalog's warnings reach stderr and the build runs; project variables override the
/// buildspec's, `--env` overrides both; `timeoutInMinutes` reaches the summary; an inline
/// `source.buildspec` is used.
#[test]
fn project_settings_inline_buildspec_and_env_precedence() {
    let ws = Workspace::new(&[("buildspec.yml", "this file is not used")]);
    let catalog = r#"- name: proj
  timeoutInMinutes: 7
  colour: blue
  source:
    type: GITHUB
    buildspec: |
      version: 0.2
      env:
        variables:
          A: from-buildspec
          B: from-buildspec
          C: from-buildspec
      phases:
        build:
          commands:
            - echo "A=$A B=$B C=$C"
  environment:
    environmentVariables:
      - {name: A, value: from-project}
      - {name: B, value: from-project}
"#;
    let run = with_catalog(&ws, catalog, &["--env", "B=from-cli"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(
        run.stdout.contains("\nA=from-project B=from-cli C=from-buildspec\n"),
        "{}",
        run.output()
    );
    assert!(run.stderr.contains("projects.yaml:3:3: warning: [0].colour: project proj: unknown field \"colour\" is ignored"), "{}", run.output());
    assert_eq!(run.summary["timeoutInMinutes"], 7);
    assert_eq!(run.summary["projectName"], "proj");
}
