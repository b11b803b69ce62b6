//! The one place the `kiln` command reads its environment: the region and account builds belong
//! to, and the local user who starts them.
//!
//! The region is `KILN_REGION`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else
//! `us-east-1`; the account is `KILN_ACCOUNT_ID`, else `000000000000`; the initiator of a local
//! build is `USER`, else the name of the current uid, else `kiln`.

use kiln_core::service::Settings;

/// Reads the environment variable `name` when set and not empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The services' settings for builds on this machine.
pub fn local() -> Settings {
    let region = ["KILN_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"].iter().find_map(|n| var(n));
    Settings::local(region, var("KILN_ACCOUNT_ID"))
}

/// Who starts a local build (`CODEBUILD_INITIATOR`).
pub fn initiator() -> String {
    var("USER")
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid()).ok().flatten().map(|u| u.name)
        })
        .unwrap_or_else(|| "kiln".into())
}
