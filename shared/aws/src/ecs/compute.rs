//! CodeBuild's compute and environment types as Fargate task sizes, and what Fargate cannot
//! run.
//!
//! | `computeType` | kiln on Fargate (x86_64 / arm64) | CodeBuild (x86_64 / arm64) | ephemeral disk |
//! |---|---|---|---|
//! | `BUILD_GENERAL1_SMALL` | 2 vCPU, 4 GB | 2 vCPU 3 GB / 2 vCPU 4 GB | 64 GiB |
//! | `BUILD_GENERAL1_MEDIUM` | 4 vCPU, 8 GB | 4 vCPU 7 GB / 4 vCPU 8 GB | 128 GiB |
//! | `BUILD_GENERAL1_LARGE` | 8 vCPU, 16 GB | 8 vCPU 15 GB / 8 vCPU 16 GB | 128 GiB |
//! | `BUILD_GENERAL1_XLARGE` | 16 vCPU, 72 GB / 16 vCPU, 64 GB | 36 vCPU 70 GB / 32 vCPU 64 GB | 200 GiB |
//! | `BUILD_GENERAL1_2XLARGE` | refused | 72 vCPU 145 GB / 48 vCPU 96 GB | |
//! | `BUILD_LAMBDA_1GB` | 0.5 vCPU, 1 GB | Lambda, 1 GB | 20 GiB |
//! | `BUILD_LAMBDA_2GB` | 1 vCPU, 2 GB | Lambda, 2 GB | 20 GiB |
//! | `BUILD_LAMBDA_4GB` | 2 vCPU, 4 GB | Lambda, 4 GB | 20 GiB |
//! | `BUILD_LAMBDA_8GB` | 4 vCPU, 8 GB | Lambda, 8 GB | 20 GiB |
//! | `BUILD_LAMBDA_10GB` | 4 vCPU, 10 GB | Lambda, 10 GB | 20 GiB |
//!
//! Each size is a combination Fargate accepts (2 vCPU: 4–16 GB; 4 vCPU: 8–30 GB; 8 vCPU:
//! 16–60 GB in 4 GB steps; 16 vCPU: 32–120 GB in 8 GB steps), the nearest at or above
//! CodeBuild's memory, since a build that fits CodeBuild's memory must fit kiln's. XLARGE gets
//! Fargate's most vCPUs (16, fewer than CodeBuild's 36 or 32) with at least CodeBuild's memory;
//! 2XLARGE is beyond Fargate's largest task (16 vCPU, 120 GB) and is refused. The disk is
//! CodeBuild's, up to Fargate's 200 GiB (Lambda builds get Fargate's default 20 GiB).
//!
//! | `environment.type` | architecture |
//! |---|---|
//! | `LINUX_CONTAINER`, `LINUX_LAMBDA_CONTAINER`, `LINUX_EC2` | x86_64 |
//! | `ARM_CONTAINER`, `ARM_LAMBDA_CONTAINER`, `ARM_EC2` | arm64 |
//! | `LINUX_GPU_CONTAINER` | refused: Fargate has no GPUs |
//! | `WINDOWS_*`, `MAC_ARM` | refused: kiln runs Linux containers |

use kiln_core::project::Project;

use super::images::{self, ImageError};

/// A CPU architecture Fargate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// `X86_64`.
    X86_64,
    /// `ARM64`.
    Arm64,
}

impl Arch {
    /// ECS's spelling (`runtimePlatform.cpuArchitecture`).
    pub fn ecs_name(self) -> &'static str {
        match self {
            Self::X86_64 => "X86_64",
            Self::Arm64 => "ARM64",
        }
    }

    /// The agent build for this architecture, as its key in the state bucket names it.
    pub fn agent_name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "aarch64",
        }
    }
}

/// A Fargate task's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskSize {
    /// CPU units (1024 = 1 vCPU).
    pub cpu: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Ephemeral storage in GiB (Fargate's default is 20).
    pub disk_gib: u32,
    /// The architecture.
    pub arch: Arch,
}

/// What Fargate cannot run, with the project field that asks for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// `privilegedMode: true`.
    #[error(
        "environment.privilegedMode: Fargate runs no privileged containers, so a build cannot start a docker daemon; build images with a daemonless tool (kaniko, buildah) or run this project on CodeBuild"
    )]
    Privileged,
    /// A Windows or macOS environment.
    #[error(
        "environment.type: {0} needs a Windows or macOS host; kiln runs Linux containers on Fargate"
    )]
    NotLinux(String),
    /// A GPU environment.
    #[error("environment.type: LINUX_GPU_CONTAINER needs a GPU; Fargate has none")]
    Gpu,
    /// An environment type kiln does not know.
    #[error(
        "environment.type: {0} is not an environment type kiln can run (LINUX_CONTAINER, ARM_CONTAINER, LINUX_LAMBDA_CONTAINER, ARM_LAMBDA_CONTAINER)"
    )]
    EnvironmentType(String),
    /// BUILD_GENERAL1_2XLARGE.
    #[error(
        "environment.computeType: BUILD_GENERAL1_2XLARGE ({0}) is beyond Fargate's largest task (16 vCPU, 120 GB); use BUILD_GENERAL1_XLARGE (16 vCPU, 64–72 GB)"
    )]
    TooLarge(&'static str),
    /// A compute type kiln does not know (reserved fleets' `ATTRIBUTE_BASED_COMPUTE`,
    /// `CUSTOM_INSTANCE_TYPE`, or a misspelling).
    #[error(
        "environment.computeType: {0} is not a compute type kiln can run (BUILD_GENERAL1_SMALL, _MEDIUM, _LARGE, _XLARGE, BUILD_LAMBDA_1GB to _10GB)"
    )]
    ComputeType(String),
    /// The image cannot be pulled, or does not fit the architecture.
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl Unsupported {
    /// The project field at fault, relative to the project (`environment.privilegedMode`).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Privileged => "environment.privilegedMode",
            Self::NotLinux(_) | Self::Gpu | Self::EnvironmentType(_) => "environment.type",
            Self::TooLarge(_) | Self::ComputeType(_) => "environment.computeType",
            Self::Image(_) => "environment.image",
        }
    }
}

/// The architecture of an environment type.
///
/// # Errors
/// [`Unsupported`] for types Fargate cannot run.
pub fn arch_of(environment_type: &str) -> Result<Arch, Unsupported> {
    match environment_type {
        "LINUX_CONTAINER" | "LINUX_LAMBDA_CONTAINER" | "LINUX_EC2" => Ok(Arch::X86_64),
        "ARM_CONTAINER" | "ARM_LAMBDA_CONTAINER" | "ARM_EC2" => Ok(Arch::Arm64),
        "LINUX_GPU_CONTAINER" => Err(Unsupported::Gpu),
        t if t.starts_with("WINDOWS") || t.starts_with("MAC") => {
            Err(Unsupported::NotLinux(t.to_owned()))
        }
        other => Err(Unsupported::EnvironmentType(other.to_owned())),
    }
}

/// The Fargate size of `compute_type` on `arch` (the table in the module docs).
///
/// # Errors
/// [`Unsupported`] for 2XLARGE and unknown types.
pub fn task_size(compute_type: &str, arch: Arch) -> Result<TaskSize, Unsupported> {
    let (cpu, memory_gib, disk_gib) = match (compute_type, arch) {
        ("BUILD_GENERAL1_SMALL", _) => (2048, 4, 64),
        ("BUILD_GENERAL1_MEDIUM", _) => (4096, 8, 128),
        ("BUILD_GENERAL1_LARGE", _) => (8192, 16, 128),
        ("BUILD_GENERAL1_XLARGE", Arch::X86_64) => (16384, 72, 200),
        ("BUILD_GENERAL1_XLARGE", Arch::Arm64) => (16384, 64, 200),
        ("BUILD_GENERAL1_2XLARGE", Arch::X86_64) => {
            return Err(Unsupported::TooLarge("72 vCPU, 145 GB on CodeBuild"));
        }
        ("BUILD_GENERAL1_2XLARGE", Arch::Arm64) => {
            return Err(Unsupported::TooLarge("48 vCPU, 96 GB on CodeBuild"));
        }
        ("BUILD_LAMBDA_1GB", _) => {
            return Ok(TaskSize { cpu: 512, memory_mib: 1024, disk_gib: 20, arch });
        }
        ("BUILD_LAMBDA_2GB", _) => (1024, 2, 20),
        ("BUILD_LAMBDA_4GB", _) => (2048, 4, 20),
        ("BUILD_LAMBDA_8GB", _) => (4096, 8, 20),
        ("BUILD_LAMBDA_10GB", _) => (4096, 10, 20),
        (other, _) => return Err(Unsupported::ComputeType(other.to_owned())),
    };
    Ok(TaskSize { cpu, memory_mib: memory_gib * 1024, disk_gib, arch })
}

/// Everything in `project` that Fargate cannot run, each naming its field: privileged mode,
/// Windows, macOS and GPU environments, compute types beyond Fargate, and images that cannot
/// be pulled or do not fit the architecture. Empty when the project can run.
pub fn fargate_problems(project: &Project) -> Vec<Unsupported> {
    let mut problems = Vec::new();
    let env = project.environment.as_ref();
    if env.and_then(|e| e.privileged_mode) == Some(true) {
        problems.push(Unsupported::Privileged);
    }
    let arch = match arch_of(project.environment_type()) {
        Ok(arch) => Some(arch),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    if let Err(e) = task_size(project.compute_type(), arch.unwrap_or(Arch::X86_64)) {
        problems.push(e);
    }
    match images::pullable_image(project.image()) {
        Ok(image) => {
            if let (Some(arch), Some(image_arch)) = (arch, image.arch)
                && arch != image_arch
            {
                problems.push(Unsupported::Image(ImageError::WrongArch {
                    image: project.image().to_owned(),
                    image_arch: image_arch.ecs_name(),
                    environment_type: project.environment_type().to_owned(),
                }));
            }
        }
        Err(e) => problems.push(e.into()),
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::project::ProjectEnvironment;
    use test_case::test_case;

    fn project(kind: &str, compute: &str, image: &str, privileged: bool) -> Project {
        Project {
            name: "p".into(),
            environment: Some(ProjectEnvironment {
                environment_type: Some(kind.into()),
                image: Some(image.into()),
                compute_type: Some(compute.into()),
                privileged_mode: Some(privileged),
                ..ProjectEnvironment::default()
            }),
            ..Project::default()
        }
    }

    #[test_case("BUILD_GENERAL1_SMALL", Arch::X86_64, 2048, 4096)]
    #[test_case("BUILD_GENERAL1_MEDIUM", Arch::X86_64, 4096, 8192)]
    #[test_case("BUILD_GENERAL1_LARGE", Arch::Arm64, 8192, 16384)]
    #[test_case("BUILD_GENERAL1_XLARGE", Arch::X86_64, 16384, 73728)]
    #[test_case("BUILD_GENERAL1_XLARGE", Arch::Arm64, 16384, 65536)]
    #[test_case("BUILD_LAMBDA_1GB", Arch::Arm64, 512, 1024)]
    #[test_case("BUILD_LAMBDA_10GB", Arch::X86_64, 4096, 10240)]
    fn sizes(compute: &str, arch: Arch, cpu: u32, memory: u32) {
        let size = task_size(compute, arch).ok();
        assert_eq!(size.map(|s| (s.cpu, s.memory_mib)), Some((cpu, memory)));
    }

    #[test]
    fn every_size_is_a_fargate_combination() {
        let valid = |cpu: u32, gib: u32| match cpu {
            512 => (1..=4).contains(&gib),
            1024 => (2..=8).contains(&gib),
            2048 => (4..=16).contains(&gib),
            4096 => (8..=30).contains(&gib),
            8192 => (16..=60).contains(&gib) && gib.is_multiple_of(4),
            16384 => (32..=120).contains(&gib) && gib.is_multiple_of(8),
            _ => false,
        };
        for compute in [
            "BUILD_GENERAL1_SMALL",
            "BUILD_GENERAL1_MEDIUM",
            "BUILD_GENERAL1_LARGE",
            "BUILD_GENERAL1_XLARGE",
            "BUILD_LAMBDA_1GB",
            "BUILD_LAMBDA_2GB",
            "BUILD_LAMBDA_4GB",
            "BUILD_LAMBDA_8GB",
            "BUILD_LAMBDA_10GB",
        ] {
            for arch in [Arch::X86_64, Arch::Arm64] {
                let Ok(s) = task_size(compute, arch) else { panic!("{compute} has a size") };
                assert!(valid(s.cpu, s.memory_mib / 1024), "{compute} {arch:?}: {s:?}");
                assert!((20..=200).contains(&s.disk_gib));
            }
        }
    }

    #[test]
    fn a_runnable_project_has_no_problems() {
        let p =
            project("LINUX_CONTAINER", "BUILD_GENERAL1_SMALL", "aws/codebuild/standard:7.0", false);
        assert_eq!(fargate_problems(&p), Vec::new());
        assert_eq!(fargate_problems(&Project::default()), Vec::new());
        let p = project(
            "ARM_CONTAINER",
            "BUILD_GENERAL1_LARGE",
            "aws/codebuild/amazonlinux2-aarch64-standard:3.0",
            false,
        );
        assert_eq!(fargate_problems(&p), Vec::new());
    }

    #[test]
    fn problems_name_their_fields() {
        let p = project(
            "WINDOWS_SERVER_2019_CONTAINER",
            "BUILD_GENERAL1_2XLARGE",
            "aws/codebuild/windows-base:2019-3.0",
            true,
        );
        let fields: Vec<&str> = fargate_problems(&p).iter().map(Unsupported::field).collect();
        assert_eq!(
            fields,
            [
                "environment.privilegedMode",
                "environment.type",
                "environment.computeType",
                "environment.image"
            ]
        );
        let p = project("LINUX_GPU_CONTAINER", "BUILD_GENERAL1_SMALL", "ubuntu:24.04", false);
        let problems = fargate_problems(&p);
        assert_eq!(problems, [Unsupported::Gpu]);
        assert_eq!(
            problems[0].to_string(),
            "environment.type: LINUX_GPU_CONTAINER needs a GPU; Fargate has none"
        );
        let p = project("LINUX_CONTAINER", "BUILD_GENERAL1_2XLARGE", "ubuntu:24.04", false);
        assert!(fargate_problems(&p)[0].to_string().contains("beyond Fargate's largest task"));
    }

    #[test]
    fn an_arm_image_needs_an_arm_environment() {
        let p = project(
            "LINUX_CONTAINER",
            "BUILD_GENERAL1_SMALL",
            "aws/codebuild/amazonlinux-aarch64-standard:3.0",
            false,
        );
        let problems = fargate_problems(&p);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field(), "environment.image");
    }
}
