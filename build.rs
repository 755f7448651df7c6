//! Embeds the git commit the binary is built from as `SCALESIM_GIT_COMMIT` (read by
//! `scalesim::shard::COMMIT`): a shard's part records it, and `merge` refuses parts of different
//! builds. `git rev-parse HEAD` when the sources are a git checkout (a fresh clone, CI); else the
//! `SCALESIM_GIT_COMMIT` environment variable if set (e.g. a Docker build without `.git`:
//! `--build-arg SCALESIM_GIT_COMMIT=$(git rev-parse HEAD)`); else `unknown commit`.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=SCALESIM_GIT_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let in_checkout = Path::new(&manifest_dir).join(".git").exists();
    let from_git = if in_checkout { git(&["rev-parse", "HEAD"]) } else { None };
    if from_git.is_some() {
        // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it points to (a commit),
        // and packed-refs (where a branch lives after `git gc` or in a fresh clone). In a
        // worktree, `--git-path` finds them in the right git directory.
        // (Only files that exist: cargo reruns a script every build for a missing one.)
        let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
        watch.extend(git(&["symbolic-ref", "-q", "HEAD"]));
        for path in watch {
            if let Some(p) = git(&["rev-parse", "--git-path", &path])
                && Path::new(&p).exists()
            {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
    let commit = from_git
        .filter(|c| c.len() >= 40 && c.chars().all(|c| c.is_ascii_hexdigit()))
        .or_else(|| std::env::var("SCALESIM_GIT_COMMIT").ok().filter(|c| !c.trim().is_empty()))
        .unwrap_or_else(|| "unknown commit".to_string());
    println!("cargo:rustc-env=SCALESIM_GIT_COMMIT={commit}");
}
