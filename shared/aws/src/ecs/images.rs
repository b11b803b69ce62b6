//! CodeBuild's curated image names (`aws/codebuild/…`, which only CodeBuild's hosts can
//! pull) mapped to images a Fargate task can pull.
//!
//! CodeBuild publishes its curated Linux images in the `codebuild` namespace of Amazon ECR
//! Public (`public.ecr.aws/codebuild/<repository>:<tag>`, built from
//! aws/aws-codebuild-docker-images), under the same repository names and tags. kiln maps the
//! current ones one for one:
//!
//! | CodeBuild name | pulled image | base | arch |
//! |---|---|---|---|
//! | `aws/codebuild/standard:5.0` | `public.ecr.aws/codebuild/standard:5.0` | Ubuntu 20.04 | x86_64 |
//! | `aws/codebuild/standard:6.0` | `public.ecr.aws/codebuild/standard:6.0` | Ubuntu 22.04 | x86_64 |
//! | `aws/codebuild/standard:7.0` | `public.ecr.aws/codebuild/standard:7.0` | Ubuntu 22.04 | x86_64 |
//! | `aws/codebuild/amazonlinux2-x86_64-standard:4.0` | `public.ecr.aws/codebuild/amazonlinux2-x86_64-standard:4.0` | Amazon Linux 2 | x86_64 |
//! | `aws/codebuild/amazonlinux2-x86_64-standard:5.0` | `public.ecr.aws/codebuild/amazonlinux2-x86_64-standard:5.0` | Amazon Linux 2023 | x86_64 |
//! | `aws/codebuild/amazonlinux-x86_64-standard:4.0` | `public.ecr.aws/codebuild/amazonlinux-x86_64-standard:4.0` | Amazon Linux 2 | x86_64 |
//! | `aws/codebuild/amazonlinux-x86_64-standard:5.0` | `public.ecr.aws/codebuild/amazonlinux-x86_64-standard:5.0` | Amazon Linux 2023 | x86_64 |
//! | `aws/codebuild/amazonlinux2-aarch64-standard:2.0` | `public.ecr.aws/codebuild/amazonlinux2-aarch64-standard:2.0` | Amazon Linux 2 | arm64 |
//! | `aws/codebuild/amazonlinux2-aarch64-standard:3.0` | `public.ecr.aws/codebuild/amazonlinux2-aarch64-standard:3.0` | Amazon Linux 2023 | arm64 |
//! | `aws/codebuild/amazonlinux-aarch64-standard:2.0` | `public.ecr.aws/codebuild/amazonlinux-aarch64-standard:2.0` | Amazon Linux 2 | arm64 |
//! | `aws/codebuild/amazonlinux-aarch64-standard:3.0` | `public.ecr.aws/codebuild/amazonlinux-aarch64-standard:3.0` | Amazon Linux 2023 | arm64 |
//!
//! A pinned version of one of these (`aws/codebuild/standard:7.0-24.10.29`) keeps its tag.
//! Every other `aws/codebuild/…` name fails clearly rather than guess: deprecated images
//! (`standard:4.0` and older), Windows and macOS images, and the Lambda images
//! (`…-lambda-standard:…`), which CodeBuild does not publish for pulling elsewhere; the error
//! names the closest image above. Any image outside `aws/codebuild/` (Docker Hub, ECR) is
//! pulled as named.

use super::compute::Arch;

/// The registry and namespace CodeBuild publishes its curated images under.
pub const CODEBUILD_PUBLIC_REGISTRY: &str = "public.ecr.aws/codebuild";

/// The curated images kiln maps: CodeBuild's repository name, its major tags, the image's
/// architecture.
const CURATED: &[(&str, &[&str], Arch)] = &[
    ("standard", &["5.0", "6.0", "7.0"], Arch::X86_64),
    ("amazonlinux2-x86_64-standard", &["4.0", "5.0"], Arch::X86_64),
    ("amazonlinux-x86_64-standard", &["4.0", "5.0"], Arch::X86_64),
    ("amazonlinux2-aarch64-standard", &["2.0", "3.0"], Arch::Arm64),
    ("amazonlinux-aarch64-standard", &["2.0", "3.0"], Arch::Arm64),
];

/// An image a task can pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullableImage {
    /// The image reference ECS pulls.
    pub image: String,
    /// The architecture it is built for, when kiln knows it (CodeBuild's curated images).
    pub arch: Option<Arch>,
}

/// Why an image cannot run on Fargate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// An `aws/codebuild/…` name with no pullable equivalent.
    #[error(
        "environment.image: {image} is a CodeBuild image kiln cannot pull ({why}); name a pullable image instead, such as {suggestion}"
    )]
    NotPublished {
        /// The name.
        image: String,
        /// Why it has no equivalent.
        why: &'static str,
        /// The closest image kiln maps.
        suggestion: &'static str,
    },
    /// A curated image of the other architecture.
    #[error(
        "environment.image: {image} is an {image_arch} image, but environment.type {environment_type} runs the other architecture"
    )]
    WrongArch {
        /// The name.
        image: String,
        /// Its architecture.
        image_arch: &'static str,
        /// The project's environment type.
        environment_type: String,
    },
    /// No image at all.
    #[error("environment.image: the image name is empty")]
    Empty,
}

/// The image a task pulls for the project image `name` (the table in the module docs).
///
/// # Errors
/// [`ImageError::NotPublished`] for `aws/codebuild/…` names kiln does not map.
pub fn pullable_image(name: &str) -> Result<PullableImage, ImageError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ImageError::Empty);
    }
    let Some(rest) = name.strip_prefix("aws/codebuild/") else {
        return Ok(PullableImage { image: name.to_owned(), arch: None });
    };
    let (repository, tag) = rest.split_once(':').unwrap_or((rest, "latest"));
    let major = tag.split_once('-').map_or(tag, |(major, _)| major);
    for (curated, tags, arch) in CURATED {
        if *curated == repository && tags.contains(&major) {
            return Ok(PullableImage {
                image: format!("{CODEBUILD_PUBLIC_REGISTRY}/{repository}:{tag}"),
                arch: Some(*arch),
            });
        }
    }
    let arm = repository.contains("aarch64");
    let suggestion = if arm {
        "aws/codebuild/amazonlinux-aarch64-standard:3.0"
    } else {
        "aws/codebuild/standard:7.0"
    };
    let why = if repository.contains("windows") {
        "a Windows image; kiln runs Linux containers"
    } else if repository.contains("lambda") {
        "CodeBuild's Lambda images are not published for pulling"
    } else if repository.contains("macos") {
        "a macOS image; kiln runs Linux containers"
    } else if CURATED.iter().any(|(c, _, _)| *c == repository) {
        "that version is deprecated or unknown"
    } else {
        "not one of CodeBuild's current curated images"
    };
    Err(ImageError::NotPublished { image: name.to_owned(), why, suggestion })
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("aws/codebuild/standard:7.0", "public.ecr.aws/codebuild/standard:7.0")]
    #[test_case("aws/codebuild/standard:5.0", "public.ecr.aws/codebuild/standard:5.0")]
    #[test_case(
        "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
        "public.ecr.aws/codebuild/amazonlinux2-x86_64-standard:5.0"
    )]
    #[test_case(
        "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        "public.ecr.aws/codebuild/amazonlinux-x86_64-standard:5.0"
    )]
    #[test_case(
        "aws/codebuild/amazonlinux2-aarch64-standard:3.0",
        "public.ecr.aws/codebuild/amazonlinux2-aarch64-standard:3.0"
    )]
    #[test_case(
        "aws/codebuild/standard:7.0-24.10.29",
        "public.ecr.aws/codebuild/standard:7.0-24.10.29"
    )]
    #[test_case("node:20-alpine", "node:20-alpine")]
    #[test_case(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/build:1",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/build:1"
    )]
    fn maps(name: &str, pulled: &str) {
        assert_eq!(pullable_image(name).map(|i| i.image).ok().as_deref(), Some(pulled));
    }

    #[test]
    fn curated_images_know_their_architecture() {
        let arm = pullable_image("aws/codebuild/amazonlinux-aarch64-standard:3.0").ok();
        assert_eq!(arm.and_then(|i| i.arch), Some(Arch::Arm64));
        let plain = pullable_image("ubuntu:24.04").ok();
        assert_eq!(plain.and_then(|i| i.arch), None);
    }

    #[test_case("aws/codebuild/standard:4.0", "deprecated")]
    #[test_case("aws/codebuild/windows-base:2019-3.0", "Windows")]
    #[test_case("aws/codebuild/amazonlinux-x86_64-lambda-standard:nodejs20", "Lambda")]
    #[test_case("aws/codebuild/ubuntu-base:14.04", "not one of")]
    fn refuses_what_it_cannot_pull(name: &str, why: &str) {
        let e = pullable_image(name).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with(&format!("environment.image: {name} is a CodeBuild image")), "{e}");
        assert!(e.contains(why), "{e}");
        assert!(e.contains("aws/codebuild/"), "{e}");
    }
}
