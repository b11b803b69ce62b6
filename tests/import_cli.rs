//! `kiln import` against the AWS emulator (moto's CodeBuild, which stores `CreateProject`'s
//! fields and answers `ListProjects` and `BatchGetProjects`, though without pages,
//! `projectsNotFound` or webhooks: those are tested with the replay client beside the
//! command): projects created in moto come out as a catalog that `kiln run --config` builds
//! unchanged; a missing name exits 1 naming it; an unreachable endpoint or no region exits 2
//! with a clear error.

use std::process::Output;

use aws_sdk_codebuild::types::{
    ArtifactNamespace, ArtifactPackaging, ArtifactsType, CacheType, ComputeType, EnvironmentType,
    EnvironmentVariable, EnvironmentVariableType, ProjectArtifacts, ProjectCache,
    ProjectEnvironment, ProjectSource, SourceType,
};
use kiln_tests::moto;

const BUILDSPEC: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"$GREETING from import, token=$TOKEN\"\n      - echo built > out.txt\nartifacts:\n  files:\n    - out.txt\n";

fn kiln_import(url: &str, args: &[&str]) -> Output {
    kiln_tests::kiln()
        .arg("import")
        .args(args)
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_REGION", moto::REGION)
        .env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("kiln import: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn create(client: &aws_sdk_codebuild::Client, name: &str, full: bool) {
    let variable = |name: &str, value: &str, kind: EnvironmentVariableType| {
        EnvironmentVariable::builder()
            .name(name)
            .value(value)
            .r#type(kind)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut environment = ProjectEnvironment::builder()
        .r#type(EnvironmentType::LinuxContainer)
        .image("aws/codebuild/standard:7.0")
        .compute_type(ComputeType::BuildGeneral1Small);
    let mut artifacts = ProjectArtifacts::builder().r#type(ArtifactsType::NoArtifacts);
    let mut create =
        client.create_project().name(name).service_role("arn:aws:iam::123456789012:role/codebuild");
    if full {
        environment = environment
            .environment_variables(variable(
                "GREETING",
                "hello",
                EnvironmentVariableType::Plaintext,
            ))
            .environment_variables(variable(
                "TOKEN",
                "/import/token",
                EnvironmentVariableType::ParameterStore,
            ))
            .environment_variables(variable("ANSWER", "yes", EnvironmentVariableType::Plaintext));
        artifacts = ProjectArtifacts::builder()
            .r#type(ArtifactsType::S3)
            .location("import-artifacts")
            .name("out")
            .namespace_type(ArtifactNamespace::None)
            .packaging(ArtifactPackaging::None);
        create = create
            .description("created by kiln's import test: yes, really # not a comment")
            .timeout_in_minutes(15)
            .cache(
                ProjectCache::builder()
                    .r#type(CacheType::S3)
                    .location("import-cache/app")
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            );
    }
    let source = ProjectSource::builder()
        .r#type(SourceType::Github)
        .location(format!("https://github.com/octo/{name}.git"))
        .buildspec(BUILDSPEC)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let created = create
        .source(source)
        .environment(environment.build().unwrap_or_else(|e| panic!("{e}")))
        .artifacts(artifacts.build().unwrap_or_else(|e| panic!("{e}")))
        .send()
        .await;
    assert!(created.is_ok(), "create project {name}: {created:?}");
}

#[tokio::test]
async fn projects_created_in_codebuild_build_unchanged_with_kiln_run() {
    let Some(url) = moto::moto_url() else { return };
    let sdk = moto::sdk(&url).await;
    let client = aws_sdk_codebuild::Client::new(&sdk);
    let full = moto::unique("imported");
    let tiny = moto::unique("tiny");
    create(&client, &full, true).await;
    create(&client, &tiny, false).await;

    let url2 = url.clone();
    let out = tokio::task::spawn_blocking(move || kiln_import(&url2, &["--all"]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (catalog, warnings) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{warnings}");
    assert!(catalog.starts_with("# kiln catalog"), "{catalog}");
    assert!(
        warnings.contains(&format!(
            "project {tiny}: timeoutInMinutes: 0 is outside CodeBuild's 5–2160 minutes"
        )),
        "{warnings}"
    );
    assert!(!warnings.contains("will refuse"), "{warnings}");
    let loaded =
        kiln_core::project::load_catalog(&catalog).unwrap_or_else(|e| panic!("{e}\n{catalog}"));
    let project = loaded.get(&full).unwrap_or_else(|| panic!("{full} in\n{catalog}"));
    assert_eq!(project.timeout_in_minutes, Some(15));
    let vars =
        &project.environment.as_ref().map(|e| e.environment_variables.clone()).unwrap_or_default();
    assert_eq!(
        vars.iter()
            .map(|v| (v.name.as_str(), v.value.as_str(), v.variable_type.as_deref()))
            .collect::<Vec<_>>(),
        [
            ("GREETING", "hello", Some("PLAINTEXT")),
            ("TOKEN", "/import/token", Some("PARAMETER_STORE")),
            ("ANSWER", "yes", Some("PLAINTEXT")),
        ]
    );
    assert!(catalog.contains("value: \"yes\""), "{catalog}");
    assert!(loaded.get(&tiny).is_some());

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("catalog.yml");
    std::fs::write(&file, &catalog).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("secrets"), "/import/token=s3cret-import\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let source = dir.path().join("src");
    std::fs::create_dir(&source).unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let run = kiln_tests::kiln()
        .args(["run", "--project", &full, "--config"])
        .arg(&file)
        .arg("--source")
        .arg(&source)
        .arg("--secrets")
        .arg(dir.path().join("secrets"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap_or_else(|e| panic!("kiln run: {e}"));
    let log = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{log}\n{}", text(&run.stderr));
    assert!(log.contains("hello from import, token=***"), "{log}");
    let stored = kiln_tests::stored_objects(&data, "import-artifacts");
    let keys: Vec<&str> = stored.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["out/out.txt"]);

    let url2 = url.clone();
    let names = format!("{full},no-such-project-{tiny}");
    let out = tokio::task::spawn_blocking(move || kiln_import(&url2, &["--names", &names]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains(&format!("kiln import: error: not found: no-such-project-{tiny}")),
        "{}",
        text(&out.stderr)
    );
    let partial =
        kiln_core::project::load_catalog(&text(&out.stdout)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        partial.projects.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        [full.as_str()]
    );
}

#[test]
fn unreachable_aws_or_no_region_exits_2_with_the_reason() {
    let closed =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
    let url = format!("http://127.0.0.1:{}", closed.unwrap_or(9));
    let out = kiln_import(&url, &["--all"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("kiln import: error: list the CodeBuild projects: no answer from aws"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked") && !stderr.contains("DispatchFailure {"), "{stderr}");
    assert!(out.stdout.is_empty());

    let out = kiln_tests::kiln()
        .args(["import", "--names", "a"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", "/nonexistent/kiln-test-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/kiln-test-credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("find the AWS region: set AWS_REGION"),
        "{}",
        text(&out.stderr)
    );

    let usage = kiln_tests::kiln().arg("import").output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage.stderr).contains("--names"), "{}", text(&usage.stderr));
}
