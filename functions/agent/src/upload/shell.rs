//! Evaluating `artifacts.name` and `cache.key` the way the build's shell would.
//!
//! The text is placed inside double quotes of `printf '%s' "<text>"` and run with the build's
//! shell, environment and working directory, so `$VAR`, `${VAR}` and `$(command)` expand as
//! in a command, and the result is taken without a trailing newline. A literal `"` or `\` in
//! the text keeps its shell meaning inside double quotes (write `\"` for a quote) [INF].

use std::path::Path;
use std::process::{Command, Stdio};

/// Why a text could not be evaluated. Never carries the environment or the output, which may
/// hold secrets.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The shell could not be started.
    #[error("start {shell}")]
    Spawn {
        /// The shell program.
        shell: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The shell exited with a failure.
    #[error("the shell exited with {status}")]
    Failed {
        /// How it exited.
        status: std::process::ExitStatus,
    },
}

/// Expands `text` with `shell` in `cwd` with exactly the environment `env`.
pub fn eval(
    shell: &str,
    env: &[(String, String)],
    cwd: &Path,
    text: &str,
) -> Result<String, ShellError> {
    let script = format!("printf '%s' \"{text}\"");
    let output = Command::new(shell)
        .arg("-c")
        .arg(script)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|source| ShellError::Spawn { shell: shell.to_owned(), source })?;
    if !output.status.success() {
        return Err(ShellError::Failed { status: output.status });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_and_command_substitutions_expand() {
        let env = vec![
            ("CODEBUILD_BUILD_NUMBER".to_owned(), "7".to_owned()),
            ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
        ];
        let dir = tempfile::tempdir().expect("dir");
        let got =
            eval("sh", &env, dir.path(), "builds/$CODEBUILD_BUILD_NUMBER/$(echo my-artifacts)")
                .expect("eval");
        assert_eq!(got, "builds/7/my-artifacts");
        assert_eq!(eval("sh", &env, dir.path(), "a b  c").expect("eval"), "a b  c");
        assert!(matches!(eval("sh", &env, dir.path(), "$(exit 3"), Err(ShellError::Failed { .. })));
    }
}
