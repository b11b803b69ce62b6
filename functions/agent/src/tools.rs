//! The helper tools a build's commands can call (`codebuild-hash-files`, `kiln-hash-files`): the
//! agent's own binary (or `kiln`) under another name, put on the build's `PATH`.

use std::path::Path;
use std::process::ExitCode;

use crate::upload::{TOOL_NAMES, hash_files_main, install_tools};

/// Runs the tool `args[0]` names, if it names one; `None` otherwise.
pub fn dispatch(args: &[String]) -> Option<ExitCode> {
    let name = Path::new(args.first()?).file_name()?.to_str()?;
    if !TOOL_NAMES.contains(&name) {
        return None;
    }
    let code = hash_files_main(&args[1..]);
    Some(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Links the tools into `dir` (pointing at the running executable) and returns `PATH` with
/// `dir` in front; `None` when they cannot be installed (the build goes on without them).
///
/// `dir`, and its parent when kiln makes it, are `rwxr-xr-x` whatever the umask: a `run-as`
/// user can run the tools, nobody but kiln's user can change them.
pub fn install_on_path(dir: &Path, path: Option<&str>) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    make_dir(dir).ok()?;
    install_tools(dir, &exe).ok()?;
    let dir = dir.to_str()?;
    Some(match path {
        Some(p) if !p.is_empty() => format!("{dir}:{p}"),
        _ => format!("{dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    })
}

/// Makes `dir` (and a missing parent) with mode 0755.
fn make_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists());
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)?;
    for made in std::iter::once(dir).chain(parent) {
        std::fs::set_permissions(made, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
