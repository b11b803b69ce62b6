//! A CodeBuild project (`BatchGetProjects`) as a project of kiln's catalog, CodeBuild's field
//! names kept, with a warning for each setting kiln does not carry out.
//!
//! Written: `name`, `arn`, `description`; `source` and each of `secondarySources` (`type`,
//! `location`, `buildspec` — inline ones too —, `gitCloneDepth`, `gitSubmodulesConfig`,
//! `reportBuildStatus`, `buildStatusConfig`, `insecureSsl`, `sourceIdentifier`);
//! `sourceVersion`, `secondarySourceVersions`; `environment` (`type`, `image`, `computeType`,
//! `computeConfiguration`, `fleet`, `environmentVariables` with their `type`, `privilegedMode`,
//! `certificate`, `registryCredential`, `imagePullCredentialsType`); `artifacts` and
//! `secondaryArtifacts`; `cache`; `timeoutInMinutes`, `queuedTimeoutInMinutes`; `webhook`
//! (`filterGroups`, `buildType`, `branchFilter`, `manualCreation`, `scopeConfiguration`).
//! Secret references (`PARAMETER_STORE`, `SECRETS_MANAGER` values, `registryCredential`) are
//! written as the references they are: import never reads a secret. Left out: what is not the
//! project's to say in kiln (`serviceRole`, `encryptionKey`, `tags`, `logsConfig`, `vpcConfig`,
//! the webhook's `url`, `payloadUrl` and `secret`, dates, badges) and `source.auth` (kiln fetches
//! with its own GitHub credentials).
//!
//! A `timeoutInMinutes` outside CodeBuild's range (an emulator's `0`) is left out, so kiln's
//! default applies, with a warning; so is a `queuedTimeoutInMinutes` outside 5–480, silently
//! (kiln has no queue timeout: one other than CodeBuild's default 480 is a warning).

use aws_sdk_codebuild::types as cb;
use kiln_core::project::Project;

use super::yaml::{MapBuilder, Value};

/// One imported project and what kiln will not do of it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The project's name.
    pub name: String,
    /// The catalog entry.
    pub value: Value,
    /// `FIELD: reason` for each setting kiln does not carry out.
    pub warnings: Vec<String>,
}

fn int(n: Option<i32>) -> Option<i64> {
    n.map(i64::from)
}

fn text<T: AsRef<str>>(v: Option<&T>) -> Option<&str> {
    v.map(AsRef::as_ref)
}

fn source(s: &cb::ProjectSource) -> Value {
    let status = s.build_status_config().and_then(|c| {
        MapBuilder::new()
            .str("context", c.context())
            .str("targetUrl", c.target_url())
            .build_if_any()
    });
    let submodules = s
        .git_submodules_config()
        .map(|g| MapBuilder::new().bool("fetchSubmodules", Some(g.fetch_submodules())).build());
    MapBuilder::new()
        .str("type", Some(s.r#type().as_str()))
        .str("location", s.location())
        .str("sourceIdentifier", s.source_identifier())
        .str("buildspec", s.buildspec())
        .int("gitCloneDepth", int(s.git_clone_depth()))
        .value("gitSubmodulesConfig", submodules)
        .bool("reportBuildStatus", s.report_build_status())
        .value("buildStatusConfig", status)
        .bool("insecureSsl", s.insecure_ssl())
        .build()
}

fn environment(e: &cb::ProjectEnvironment) -> Value {
    let variables = e
        .environment_variables()
        .iter()
        .map(|v| {
            MapBuilder::new()
                .str("name", Some(v.name()))
                .str("value", Some(v.value()))
                .str("type", text(v.r#type()))
                .build()
        })
        .collect();
    let compute = e.compute_configuration().and_then(|c| {
        MapBuilder::new()
            .int("vCpu", c.v_cpu())
            .int("memory", c.memory())
            .int("disk", c.disk())
            .str("machineType", text(c.machine_type()))
            .str("instanceType", c.instance_type())
            .build_if_any()
    });
    let registry = e.registry_credential().map(|r| {
        MapBuilder::new()
            .str("credential", Some(r.credential()))
            .str("credentialProvider", Some(r.credential_provider().as_str()))
            .build()
    });
    let fleet =
        e.fleet().and_then(|f| MapBuilder::new().str("fleetArn", f.fleet_arn()).build_if_any());
    MapBuilder::new()
        .str("type", Some(e.r#type().as_str()))
        .str("image", Some(e.image()))
        .str("computeType", Some(e.compute_type().as_str()))
        .value("computeConfiguration", compute)
        .value("fleet", fleet)
        .seq("environmentVariables", variables)
        .bool("privilegedMode", e.privileged_mode())
        .str("certificate", e.certificate())
        .value("registryCredential", registry)
        .str("imagePullCredentialsType", text(e.image_pull_credentials_type()))
        .build()
}

fn artifacts(a: &cb::ProjectArtifacts) -> Value {
    MapBuilder::new()
        .str("type", Some(a.r#type().as_str()))
        .str("location", a.location())
        .str("path", a.path())
        .str("namespaceType", text(a.namespace_type()))
        .str("name", a.name())
        .str("packaging", text(a.packaging()))
        .bool("overrideArtifactName", a.override_artifact_name())
        .bool("encryptionDisabled", a.encryption_disabled())
        .str("artifactIdentifier", a.artifact_identifier())
        .str("bucketOwnerAccess", text(a.bucket_owner_access()))
        .build()
}

fn cache(c: &cb::ProjectCache) -> Value {
    MapBuilder::new()
        .str("type", Some(c.r#type().as_str()))
        .str("location", c.location())
        .seq("modes", c.modes().iter().map(|m| Value::Str(m.as_str().to_owned())).collect())
        .str("cacheNamespace", c.cache_namespace())
        .build()
}

fn webhook(w: &cb::Webhook) -> Option<Value> {
    let groups = w
        .filter_groups()
        .iter()
        .map(|group| {
            Value::Seq(
                group
                    .iter()
                    .map(|f| {
                        MapBuilder::new()
                            .str("type", Some(f.r#type().as_str()))
                            .str("pattern", Some(f.pattern()))
                            .bool("excludeMatchedPattern", f.exclude_matched_pattern())
                            .build()
                    })
                    .collect(),
            )
        })
        .collect();
    let scope = w.scope_configuration().map(|s| {
        MapBuilder::new()
            .str("name", Some(s.name()))
            .str("domain", s.domain())
            .str("scope", Some(s.scope().as_str()))
            .build()
    });
    MapBuilder::new()
        .seq("filterGroups", groups)
        .str("buildType", text(w.build_type()))
        .str("branchFilter", w.branch_filter().filter(|b| !b.is_empty()))
        .bool("manualCreation", w.manual_creation())
        .value("scopeConfiguration", scope)
        .build_if_any()
}

/// A timeout within `range`, else `None` with a warning for `field`.
fn timeout(
    field: &str,
    minutes: Option<i32>,
    range: std::ops::RangeInclusive<i32>,
    warnings: &mut Vec<String>,
) -> Option<i64> {
    let minutes = minutes?;
    if range.contains(&minutes) {
        return Some(i64::from(minutes));
    }
    warnings.push(format!(
        "{field}: {minutes} is outside CodeBuild's {}–{} minutes; left out, so kiln's default applies",
        range.start(),
        range.end()
    ));
    None
}

/// `project` as a catalog entry, and its warnings.
pub fn import(project: &cb::Project) -> Imported {
    let name = project.name().unwrap_or_default().to_owned();
    let mut warnings = Vec::new();
    let versions = project
        .secondary_source_versions()
        .iter()
        .map(|v| {
            MapBuilder::new()
                .str("sourceIdentifier", Some(v.source_identifier()))
                .str("sourceVersion", Some(v.source_version()))
                .build()
        })
        .collect();
    let timeout_minutes =
        timeout("timeoutInMinutes", project.timeout_in_minutes(), 5..=2160, &mut warnings);
    let queued = project.queued_timeout_in_minutes().filter(|m| (5..=480).contains(m));
    if queued.is_some_and(|m| m != 480) {
        warnings.push(
            "queuedTimeoutInMinutes: kiln does not time out a build waiting for a place".to_owned(),
        );
    }
    let value = MapBuilder::new()
        .str("name", Some(&name))
        .str("arn", project.arn())
        .str("description", project.description().filter(|d| !d.is_empty()))
        .value("source", project.source().map(source))
        .seq("secondarySources", project.secondary_sources().iter().map(source).collect())
        .str("sourceVersion", project.source_version())
        .seq("secondarySourceVersions", versions)
        .value("environment", project.environment().map(environment))
        .value("artifacts", project.artifacts().map(artifacts))
        .seq("secondaryArtifacts", project.secondary_artifacts().iter().map(artifacts).collect())
        .value("cache", project.cache().map(cache))
        .int("timeoutInMinutes", timeout_minutes)
        .int("queuedTimeoutInMinutes", int(queued))
        .value("webhook", project.webhook().and_then(webhook))
        .build();
    warnings.extend(unsupported(project, &value));
    Imported { name, value, warnings }
}

/// What kiln will not do of `project` (whose catalog entry is `value`): `FIELD: reason`.
fn unsupported(project: &cb::Project, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(typed) = serde_json::from_value::<Project>(value.to_json()) {
        out.extend(kiln_aws::fargate_problems(&typed).iter().map(ToString::to_string));
    }
    let mut say = |field: &str, reason: &str| out.push(format!("{field}: {reason}"));
    if let Some(kind) = project.source().map(|s| s.r#type().as_str())
        && !matches!(kind, "GITHUB" | "GITHUB_ENTERPRISE" | "NO_SOURCE")
    {
        say(
            "source.type",
            &format!("kiln builds GitHub repositories; a {kind} source is not fetched"),
        );
    }
    let secondary: Vec<&str> =
        project.secondary_sources().iter().map(|s| s.source_identifier().unwrap_or("?")).collect();
    if !secondary.is_empty() {
        say(
            "secondarySources",
            &format!(
                "kiln fetches the primary source only; {} not fetched and no CODEBUILD_SRC_DIR_<id> is set",
                secondary.join(", ")
            ),
        );
    }
    let env = project.environment();
    if env.and_then(|e| e.registry_credential()).is_some() {
        say(
            "environment.registryCredential",
            "kiln's tasks pull the image with the execution role; the registry credential is not used",
        );
    }
    if env.and_then(|e| e.certificate()).is_some() {
        say("environment.certificate", "the certificate is not installed in kiln's builds");
    }
    if env.and_then(|e| e.fleet()).is_some() {
        say(
            "environment.fleet",
            "reserved capacity fleets are CodeBuild's; kiln runs the build on Fargate",
        );
    }
    let artifact_types = project.artifacts().into_iter().chain(project.secondary_artifacts());
    if artifact_types.into_iter().any(|a| a.r#type().as_str() == "CODEPIPELINE") {
        say(
            "artifacts.type",
            "CODEPIPELINE artifacts are CodePipeline's; kiln uploads no artifacts for them",
        );
    }
    if project.cache().is_some_and(|c| c.r#type().as_str() == "LOCAL") {
        say("cache.type", "LOCAL caches are not kept between kiln builds; use an S3 cache");
    }
    let hook = project.webhook();
    if hook.and_then(|w| w.build_type()).is_some_and(|t| t.as_str() == "BUILD_BATCH") {
        say("webhook.buildType", "kiln runs a batch build as one plain build");
    }
    if hook.and_then(|w| w.scope_configuration()).is_some() {
        say(
            "webhook.scopeConfiguration",
            "kiln builds the repositories its catalog names; an organization or global webhook is not followed",
        );
    }
    if project.build_batch_config().is_some() {
        say("buildBatchConfig", "kiln runs a batch build as one plain build");
    }
    if project.vpc_config().is_some() {
        say("vpcConfig", "kiln's tasks run in KILN_SUBNETS with KILN_SECURITY_GROUPS");
    }
    if !project.file_system_locations().is_empty() {
        say("fileSystemLocations", "kiln mounts no file systems in its builds");
    }
    if project.concurrent_build_limit().is_some() {
        say(
            "concurrentBuildLimit",
            "kiln does not limit a project's builds (kiln serve has --max-parallel)",
        );
    }
    if project.auto_retry_limit().is_some_and(|n| n > 0) {
        say("autoRetryLimit", "kiln does not retry failed builds");
    }
    out
}
