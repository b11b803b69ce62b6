//! The task definition of a build: what is registered once per (project, image, cpu, memory,
//! architecture) and reused, named from a hash of everything in it.
//!
//! Two containers share the volume `kiln` (Fargate's ephemeral storage), mounted at `/kiln`:
//!
//! - `init` (the installation's [`crate::AwsConfig::init_image`], which needs `sh` and the AWS
//!   CLI) copies the agent for the task's architecture from
//!   `s3://<state bucket>/agent/<x86_64|aarch64>/kiln-agent` to `/kiln/kiln-agent` with the
//!   task role, and exits; it is not essential;
//! - `build` (the project's image) waits for `init` to succeed (`dependsOn` SUCCESS), runs as
//!   root with `entryPoint` `["/kiln/kiln-agent"]` (the volume read-only), its command given by
//!   RunTask's overrides; its stdout goes to `KILN_LOG_GROUP` through awslogs with the project
//!   as stream prefix, so the log of a build is the stream `<project>/build/<task id>`. Its
//!   stop timeout is Fargate's longest, 120 s, so a stopped build can write its summary.
//!
//! The project is part of the key because RunTask cannot override the awslogs stream prefix;
//! the installation's settings are part of the hash so that a changed execution role, log
//! group or init image makes a new family instead of reusing a stale one.

use aws_sdk_ecs::types::{
    Compatibility, ContainerCondition, ContainerDefinition, ContainerDependency, CpuArchitecture,
    EphemeralStorage, KeyValuePair, LogConfiguration, LogDriver, MountPoint, NetworkMode, OsFamily,
    RuntimePlatform, Tag, Volume,
};
use aws_smithy_types::error::operation::BuildError;
use sha2::{Digest, Sha256};

use super::compute::{Arch, TaskSize};
use super::{BUILD_CONTAINER, INIT_CONTAINER};

/// The volume the containers share, and where they mount it.
const VOLUME: &str = "kiln";
/// Where the volume is mounted.
const MOUNT: &str = "/kiln";
/// The agent on the volume: the build container's entry point.
pub const AGENT_PATH: &str = "/kiln/kiln-agent";
/// Memory the init container reserves (MiB); the build container reserves the rest.
const INIT_MEMORY_MIB: u32 = 64;
/// The longest stop timeout Fargate allows (seconds).
const STOP_TIMEOUT: i32 = 120;

/// The agent binary's key in the state bucket for `arch`.
pub fn agent_key(arch: Arch) -> String {
    format!("agent/{}/kiln-agent", arch.agent_name())
}

/// Everything a build's task definition is made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DefinitionSpec {
    /// The project (the log stream prefix).
    pub project: String,
    /// The image the build container pulls.
    pub image: String,
    /// The task's size and architecture.
    pub size: TaskSize,
    /// The role ECS pulls images and writes logs with.
    pub execution_role_arn: String,
    /// The log group.
    pub log_group: String,
    /// The region (of the log group).
    pub region: String,
    /// The init container's image.
    pub init_image: String,
    /// The state bucket, which holds the agent.
    pub state_bucket: String,
}

impl DefinitionSpec {
    /// `kiln-<first 16 hex digits of the SHA-256 of every field>`.
    pub fn family(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            "kiln task definition 1",
            &self.project,
            &self.image,
            &self.size.cpu.to_string(),
            &self.size.memory_mib.to_string(),
            &self.size.disk_gib.to_string(),
            self.size.arch.ecs_name(),
            &self.execution_role_arn,
            &self.log_group,
            &self.region,
            &self.init_image,
            &self.state_bucket,
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hex::encode(hash.finalize());
        format!("kiln-{}", &digest[..16])
    }

    /// The S3 URL of the agent this definition's init container copies.
    pub fn agent_url(&self) -> String {
        format!("s3://{}/{}", self.state_bucket, agent_key(self.size.arch))
    }

    fn log(&self) -> Result<LogConfiguration, BuildError> {
        LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", &self.log_group)
            .options("awslogs-region", &self.region)
            .options("awslogs-stream-prefix", &self.project)
            .build()
    }

    fn init_container(&self) -> Result<ContainerDefinition, BuildError> {
        let script = format!(
            "set -eu; aws s3 cp --quiet \"$KILN_AGENT_URL\" {AGENT_PATH}.part && chmod 0755 {AGENT_PATH}.part && mv {AGENT_PATH}.part {AGENT_PATH}"
        );
        Ok(ContainerDefinition::builder()
            .name(INIT_CONTAINER)
            .image(&self.init_image)
            .essential(false)
            .entry_point("sh")
            .entry_point("-c")
            .command(script)
            .environment(
                KeyValuePair::builder().name("KILN_AGENT_URL").value(self.agent_url()).build(),
            )
            .environment(KeyValuePair::builder().name("AWS_REGION").value(&self.region).build())
            .mount_points(
                MountPoint::builder()
                    .source_volume(VOLUME)
                    .container_path(MOUNT)
                    .read_only(false)
                    .build(),
            )
            .memory_reservation(i32::try_from(INIT_MEMORY_MIB).unwrap_or(64))
            .log_configuration(self.log()?)
            .build())
    }

    fn build_container(&self) -> Result<ContainerDefinition, BuildError> {
        let reserve = self.size.memory_mib.saturating_sub(INIT_MEMORY_MIB);
        Ok(ContainerDefinition::builder()
            .name(BUILD_CONTAINER)
            .image(&self.image)
            .essential(true)
            .entry_point(AGENT_PATH)
            .user("0")
            .environment(KeyValuePair::builder().name("AWS_REGION").value(&self.region).build())
            .mount_points(
                MountPoint::builder()
                    .source_volume(VOLUME)
                    .container_path(MOUNT)
                    .read_only(true)
                    .build(),
            )
            .depends_on(
                ContainerDependency::builder()
                    .container_name(INIT_CONTAINER)
                    .condition(ContainerCondition::Success)
                    .build()?,
            )
            .memory_reservation(i32::try_from(reserve).unwrap_or(i32::MAX))
            .stop_timeout(STOP_TIMEOUT)
            .log_configuration(self.log()?)
            .build())
    }

    /// The `RegisterTaskDefinition` call for this definition on `client`.
    ///
    /// # Errors
    /// The SDK's [`BuildError`] if a required field were missing (never, for a spec).
    pub fn register(
        &self,
        client: &aws_sdk_ecs::Client,
    ) -> Result<aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder, BuildError>
    {
        let arch = match self.size.arch {
            Arch::X86_64 => CpuArchitecture::X8664,
            Arch::Arm64 => CpuArchitecture::Arm64,
        };
        let mut register = client
            .register_task_definition()
            .family(self.family())
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(NetworkMode::Awsvpc)
            .cpu(self.size.cpu.to_string())
            .memory(self.size.memory_mib.to_string())
            .runtime_platform(
                RuntimePlatform::builder()
                    .cpu_architecture(arch)
                    .operating_system_family(OsFamily::Linux)
                    .build(),
            )
            .execution_role_arn(&self.execution_role_arn)
            .volumes(Volume::builder().name(VOLUME).build())
            .container_definitions(self.build_container()?)
            .container_definitions(self.init_container()?)
            .tags(Tag::builder().key("kiln:project").value(truncate(&self.project)).build())
            .tags(Tag::builder().key("kiln:image").value(truncate(&self.image)).build());
        if self.size.disk_gib > 20 {
            register = register.ephemeral_storage(
                EphemeralStorage::builder()
                    .size_in_gib(i32::try_from(self.size.disk_gib).unwrap_or(200))
                    .build(),
            );
        }
        Ok(register)
    }
}

/// A tag value within ECS's 256 characters.
fn truncate(value: &str) -> String {
    value.chars().take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> DefinitionSpec {
        DefinitionSpec {
            project: "web".into(),
            image: "public.ecr.aws/codebuild/standard:7.0".into(),
            size: TaskSize { cpu: 2048, memory_mib: 4096, disk_gib: 64, arch: Arch::X86_64 },
            execution_role_arn: "arn:aws:iam::1:role/exec".into(),
            log_group: "/kiln/builds".into(),
            region: "us-east-1".into(),
            init_image: "public.ecr.aws/aws-cli/aws-cli:latest".into(),
            state_bucket: "kiln-state".into(),
        }
    }

    #[test]
    fn the_family_names_the_whole_definition() {
        let base = spec();
        let family = base.family();
        assert!(family.starts_with("kiln-") && family.len() == 21, "{family}");
        assert!(family[5..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(spec().family(), family);
        let mut other = spec();
        other.image = "ubuntu:24.04".into();
        assert_ne!(other.family(), family);
        let mut other = spec();
        other.size.arch = Arch::Arm64;
        assert_ne!(other.family(), family);
        let mut other = spec();
        other.size.memory_mib = 8192;
        assert_ne!(other.family(), family);
        let mut other = spec();
        other.log_group = "/other".into();
        assert_ne!(other.family(), family);
    }

    #[test]
    fn the_agent_is_per_architecture() {
        assert_eq!(spec().agent_url(), "s3://kiln-state/agent/x86_64/kiln-agent");
        assert_eq!(agent_key(Arch::Arm64), "agent/aarch64/kiln-agent");
    }
}
