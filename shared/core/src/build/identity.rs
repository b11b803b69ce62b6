//! Who a build is: project, UUID, number, and the ids and ARN CodeBuild derives from them.

/// The identity of one build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildIdentity {
    /// The project's name.
    pub project: String,
    /// The build's UUID (lowercase, hyphenated).
    pub uuid: String,
    /// The per-project build number, starting at 1.
    pub number: u64,
    /// The AWS region the build belongs to.
    pub region: String,
    /// The AWS account id the build belongs to.
    pub account: String,
}

impl BuildIdentity {
    /// `CODEBUILD_BUILD_ID`: `<project>:<uuid>`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.project, self.uuid)
    }

    /// `CODEBUILD_BUILD_ARN`: `arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>`.
    pub fn arn(&self) -> String {
        format!("arn:aws:codebuild:{}:{}:build/{}", self.region, self.account, self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_arn() {
        let b = BuildIdentity {
            project: "proj".into(),
            uuid: "0f8e2a7c-1111-4222-8333-444455556666".into(),
            number: 7,
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        assert_eq!(b.id(), "proj:0f8e2a7c-1111-4222-8333-444455556666");
        assert_eq!(
            b.arn(),
            "arn:aws:codebuild:us-east-1:000000000000:build/proj:0f8e2a7c-1111-4222-8333-444455556666"
        );
    }
}
