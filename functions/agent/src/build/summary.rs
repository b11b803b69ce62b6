//! The build summary, in the field names of CodeBuild's `BatchGetBuilds` `Build`.

use kiln_core::build::{BuildIdentity, PhaseRecord, Status};
use serde_json::{Value, json};

use crate::upload::UploadOutcome;

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    /// Who the build was.
    pub identity: BuildIdentity,
    /// The final status.
    pub status: Status,
    /// `startTime`, epoch milliseconds.
    pub start_ms: i64,
    /// `endTime`, epoch milliseconds.
    pub end_ms: i64,
    /// `sourceVersion`.
    pub source_version: Option<String>,
    /// `resolvedSourceVersion`.
    pub resolved_source_version: Option<String>,
    /// `phases`.
    pub phases: Vec<PhaseRecord>,
    /// `exportedEnvironmentVariables`.
    pub exported: Vec<(String, String)>,
    /// What UPLOAD_ARTIFACTS produced.
    pub upload: UploadOutcome,
    /// The project's `timeoutInMinutes` in effect.
    pub timeout_minutes: u64,
    /// The build image.
    pub image: String,
    /// The build's initiator.
    pub initiator: String,
}

fn seconds(ms: i64) -> f64 {
    // BatchGetBuilds prints timestamps as epoch seconds with a fraction.
    ms as f64 / 1000.0
}

impl BuildSummary {
    /// The summary as JSON.
    pub fn to_json(&self) -> Value {
        let phases: Vec<Value> = self
            .phases
            .iter()
            .map(|p| {
                let mut v = json!({
                    "phaseType": p.phase_type.name(),
                    "startTime": seconds(p.start_ms),
                });
                if let Some(status) = p.status {
                    v["phaseStatus"] = json!(status.name());
                }
                if let Some(end) = p.end_ms {
                    v["endTime"] = json!(seconds(end));
                }
                if let Some(d) = p.duration_seconds() {
                    v["durationInSeconds"] = json!(d);
                }
                if p.status.is_some() {
                    v["contexts"] = json!(
                        p.contexts
                            .iter()
                            .map(|c| json!({"statusCode": c.status_code, "message": c.message}))
                            .collect::<Vec<_>>()
                    );
                }
                v
            })
            .collect();
        let current = self.phases.last().map_or("COMPLETED", |p| p.phase_type.name());
        let mut build = json!({
            "id": self.identity.id(),
            "arn": self.identity.arn(),
            "buildNumber": self.identity.number,
            "startTime": seconds(self.start_ms),
            "endTime": seconds(self.end_ms),
            "currentPhase": current,
            "buildStatus": self.status.name(),
            "projectName": self.identity.project,
            "buildComplete": true,
            "initiator": self.initiator,
            "timeoutInMinutes": self.timeout_minutes,
            "environment": {"image": self.image},
            "phases": phases,
            "exportedEnvironmentVariables": self.exported.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "secondaryArtifacts": self.upload.secondary_artifacts,
            "reports": self.upload.reports,
        });
        if let Some(v) = &self.source_version {
            build["sourceVersion"] = json!(v);
        }
        if let Some(v) = &self.resolved_source_version {
            build["resolvedSourceVersion"] = json!(v);
        }
        if let Some(artifacts) = &self.upload.artifacts {
            build["artifacts"] = json!(artifacts);
        }
        build
    }
}
