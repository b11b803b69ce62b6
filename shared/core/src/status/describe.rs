//! The description of a build's commit status, within GitHub's 140 characters, and the link to
//! its page.
//!
//! Texts (spec §7.5, S01–S03, [OBS, medium]): `Build started for project <p>`, `Build succeeded
//! for project <p>`, `Build failed for project <p>`; kiln adds the reason when it knows one
//! (`Build failed for project web: buildspec.yml:4:7: unknown phase biuld`), and uses `Build
//! stopped for project <p>` for STOPPED and `Build could not run for project <p>` for FAULT
//! [INF]. A text too long for GitHub is cut at a character boundary and ends with `…`.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::build::{BuildRef, BuildState};
use crate::ports::MAX_DESCRIPTION_CHARS;

/// The description of the status of a build of `project` in `state`, with `reason` when known.
pub fn describe(project: &str, state: BuildState, reason: Option<&str>) -> String {
    let head = match state {
        BuildState::Queued | BuildState::InProgress => {
            format!("Build started for project {project}")
        }
        BuildState::Succeeded => format!("Build succeeded for project {project}"),
        BuildState::Failed | BuildState::TimedOut => format!("Build failed for project {project}"),
        BuildState::Stopped => format!("Build stopped for project {project}"),
        BuildState::Fault => format!("Build could not run for project {project}"),
    };
    let failed = state.is_terminal() && state != BuildState::Succeeded;
    let text = match (failed, reason.map(str::trim).filter(|r| !r.is_empty())) {
        (true, Some(reason)) => format!("{head}: {}", reason.replace(['\n', '\r'], " ")),
        (true, None) if state == BuildState::TimedOut => format!("{head}: timed out"),
        _ => head,
    };
    truncate(&text, MAX_DESCRIPTION_CHARS)
}

/// `text` cut to at most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// How kiln links build pages: a base URL, and a key that signs links when pages are private.
#[derive(Debug, Clone)]
pub struct PageLinks {
    /// The pages' base URL (`https://kiln.example.com`, `KILN_PAGES_URL`, `--public-url`).
    pub base_url: String,
    /// The key that signs page links; `None` when every page is public.
    pub signing_key: Option<SecretString>,
}

impl PageLinks {
    /// The page of `build`: `<base>/builds/<project>/<number>`, with `?sig=<hex>` when links
    /// are signed. The signature is an HMAC-SHA256 of `<project>/<number>` with the key, so it
    /// cannot be guessed or moved to another build.
    pub fn build_page(&self, build: &BuildRef) -> String {
        let base = self.base_url.trim_end_matches('/');
        let page = format!("{base}/builds/{}/{}", build.project, build.number);
        match self.signature(build) {
            Some(sig) => format!("{page}?sig={sig}"),
            None => page,
        }
    }

    /// The build's log as text: `<base>/builds/<project>/<number>/log`, signed like its page.
    pub fn build_log(&self, build: &BuildRef) -> String {
        let base = self.base_url.trim_end_matches('/');
        let log = format!("{base}/builds/{}/{}/log", build.project, build.number);
        match self.signature(build) {
            Some(sig) => format!("{log}?sig={sig}"),
            None => log,
        }
    }

    /// The signature of `build`'s page, when links are signed.
    pub fn signature(&self, build: &BuildRef) -> Option<String> {
        let key = self.signing_key.as_ref()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes()).ok()?;
        mac.update(format!("{}/{}", build.project, build.number).as_bytes());
        Some(hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `sig` is the signature of `build`'s page (compared in constant time).
    pub fn verify(&self, build: &BuildRef, sig: &str) -> bool {
        let Some(key) = self.signing_key.as_ref() else { return true };
        let Ok(given) = hex::decode(sig) else { return false };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes()) else {
            return false;
        };
        mac.update(format!("{}/{}", build.project, build.number).as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s01_to_s03_and_reasons() {
        assert_eq!(
            describe("proj", BuildState::InProgress, None),
            "Build started for project proj"
        );
        assert_eq!(
            describe("proj", BuildState::Succeeded, None),
            "Build succeeded for project proj"
        );
        assert_eq!(describe("proj", BuildState::Failed, None), "Build failed for project proj");
        assert_eq!(
            describe("p", BuildState::Failed, Some("buildspec.yml:4:7: error: unknown phase")),
            "Build failed for project p: buildspec.yml:4:7: error: unknown phase"
        );
        let long = describe("p", BuildState::Fault, Some(&"x".repeat(500)));
        assert_eq!(long.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn signed_links_verify_only_for_their_build() {
        let links = PageLinks {
            base_url: "https://kiln.example/".into(),
            signing_key: Some(SecretString::from("k".to_owned())),
        };
        let b = BuildRef::new("web", 3);
        let url = links.build_page(&b);
        assert!(url.starts_with("https://kiln.example/builds/web/3?sig="), "{url}");
        let sig = url.rsplit_once('=').map(|(_, s)| s).unwrap_or_default();
        assert!(links.verify(&b, sig));
        assert!(!links.verify(&BuildRef::new("web", 4), sig));
        assert!(!links.verify(&b, "00"));
    }
}
