//! A stand-in for a Fargate task's build container: a program run as root in a root file
//! system of its own (a private mount namespace and `chroot`), with the host's `/usr` and
//! `/etc` read-only, `/dev`, a new `/proc` and `/tmp`, an empty `/root`, no `/codebuild`, and
//! the agent at `/kiln/kiln-agent` on a read-only mount, as the task's shared volume has it.
//! Nothing is left behind: the mounts end with the namespace, the root is a temporary folder.

use std::path::Path;
use std::process::{Command, Output};

/// Makes the root and execs `chroot ROOT "$@"`; `$1` is the root, `$2` the agent binary.
const SCRIPT: &str = r#"set -eu
root="$1"; agent="$2"; shift 2
mkdir -p "$root/usr" "$root/etc" "$root/dev" "$root/proc" "$root/tmp" "$root/root" "$root/kiln"
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"
  elif [ -d "/$d" ]; then mkdir -p "$root/$d"; mount --bind "/$d" "$root/$d"
  fi
done
mount --bind /usr "$root/usr"; mount -o remount,bind,ro "$root/usr" 2>/dev/null || true
mount --bind /etc "$root/etc"; mount -o remount,bind,ro "$root/etc" 2>/dev/null || true
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc" 2>/dev/null || mount --rbind /proc "$root/proc"
mount -t tmpfs tmpfs "$root/tmp"
: > "$root/kiln/kiln-agent"
mount --bind "$agent" "$root/kiln/kiln-agent"; mount -o remount,bind,ro "$root/kiln/kiln-agent" 2>/dev/null || true
exec chroot "$root" "$@"
"#;

/// Whether this machine can make such a container: root, with `unshare` and `chroot`.
pub fn available() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err(
            "the task test runs the agent as root in a chroot; this user is not root".into()
        );
    }
    let probe =
        Command::new("unshare").args(["--mount", "--propagation", "private", "true"]).output();
    match probe {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("unshare --mount failed: {}", String::from_utf8_lossy(&out.stderr))),
        Err(e) => Err(format!("unshare is not available: {e}")),
    }
}

/// Runs `argv` (its first item the entry point, a path inside the container) with exactly
/// `env`, in a container rooted in the new empty directory `root`, with `agent` mounted at
/// `/kiln/kiln-agent`.
pub fn run(root: &Path, agent: &Path, argv: &[String], env: &[(String, String)]) -> Output {
    let unshare = which("unshare");
    Command::new(unshare)
        .args(["--mount", "--propagation", "private", "/bin/sh", "-c", SCRIPT, "sh"])
        .arg(root)
        .arg(agent)
        .args(argv)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("run the container: {e}"))
}

fn which(name: &str) -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| Path::new("/usr/bin").join(name))
}
