//! Where a build's state lives: the keys of the state bucket in the cloud, and the same paths
//! under the data directory locally (`DATA_DIR/<key>`), so both stores hold the same layout.
//!
//! - `numbers/<project>/<n>`: build number `n` of a project is claimed (created only if absent);
//! - `keys/<idempotency key>`: which build a key was given to (`<project>/<n>`);
//! - `builds/<project>/<n>/build.json`: the [`super::Build`] record;
//! - `builds/<project>/<n>/description.json`: the [`super::BuildDescription`] the task runs;
//! - `builds/<project>/<n>/summary.json`: the [`super::BuildSummary`] the agent wrote;
//! - `builds/<project>/<n>/build.log`: the build's log;
//! - `builds/<project>/<n>/source-token-<nonce>`: in the cloud only, the one-use object in which
//!   a launcher hands a task's agent the credential that fetches its source (the agent reads
//!   and deletes it before the build's first command; the nonce keeps the key unguessable);
//! - `open/<project>/<n>`: a marker while the build has not ended (so open builds are listed
//!   without reading every record).
//!
//! Project names are CodeBuild's (`[A-Za-z0-9][A-Za-z0-9_-]*`, validated when the catalog
//! loads), so they are safe as one key or path segment; an idempotency key is 64 hex digits.

use super::record::BuildRef;

/// `numbers/<project>/`: the prefix of a project's claimed numbers.
pub fn numbers_prefix(project: &str) -> String {
    format!("numbers/{project}/")
}

/// `numbers/<project>/<n>`.
pub fn number_key(project: &str, number: u64) -> String {
    format!("numbers/{project}/{number}")
}

/// `keys/<key>`.
pub fn idempotency_key(key: &str) -> String {
    format!("keys/{key}")
}

/// `builds/<project>/<n>/`: the prefix of everything of one build.
pub fn build_prefix(build: &BuildRef) -> String {
    format!("builds/{}/{}/", build.project, build.number)
}

/// `builds/<project>/<n>/build.json`.
pub fn record_key(build: &BuildRef) -> String {
    format!("{}build.json", build_prefix(build))
}

/// `builds/<project>/<n>/description.json`.
pub fn description_key(build: &BuildRef) -> String {
    format!("{}description.json", build_prefix(build))
}

/// `builds/<project>/<n>/summary.json`.
pub fn summary_key(build: &BuildRef) -> String {
    format!("{}summary.json", build_prefix(build))
}

/// `builds/<project>/<n>/build.log`.
pub fn log_key(build: &BuildRef) -> String {
    format!("{}build.log", build_prefix(build))
}

/// `builds/<project>/<n>/source-token-<nonce>`.
pub fn source_token_key(build: &BuildRef, nonce: &str) -> String {
    format!("{}source-token-{nonce}", build_prefix(build))
}

/// `open/<project>/<n>`.
pub fn open_key(build: &BuildRef) -> String {
    format!("open/{}/{}", build.project, build.number)
}

/// The build an `open/…` marker or a `keys/…` value (`<project>/<n>`) names.
pub fn parse_build_ref(text: &str) -> Option<BuildRef> {
    let text = text.strip_prefix("open/").unwrap_or(text);
    let (project, number) = text.trim().rsplit_once('/')?;
    let number = super::parse_build_number(number)?;
    (!project.is_empty() && !project.contains('/')).then(|| BuildRef::new(project, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_back() {
        let b = BuildRef::new("web", 12);
        assert_eq!(record_key(&b), "builds/web/12/build.json");
        assert_eq!(summary_key(&b), "builds/web/12/summary.json");
        assert_eq!(open_key(&b), "open/web/12");
        assert_eq!(source_token_key(&b, "ab12"), "builds/web/12/source-token-ab12");
        assert_eq!(parse_build_ref(&open_key(&b)), Some(b.clone()));
        assert_eq!(parse_build_ref("web/12\n"), Some(b));
        assert_eq!(parse_build_ref("web/012"), None);
        assert_eq!(parse_build_ref("a/b/1"), None);
    }
}
