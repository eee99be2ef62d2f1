//! Records the git revision the binary is built from, for `vaultkeeper --version`.
//!
//! From a git checkout: `git rev-parse --short=12 HEAD`. From a source tarball or
//! the Nix build (no `.git`): the `VAULTKEEPER_GIT_REV` environment variable
//! (nix/package.nix sets it from the flake's revision), else "unknown".

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// A revision of hex digits (shortened to 12), optionally "-dirty" (the flake's
/// `dirtyRev`): the value is printed and must stay a revision.
fn clean(rev: &str) -> Option<String> {
    let rev = rev.trim();
    let (hex, dirty) = match rev.strip_suffix("-dirty") {
        Some(h) => (h, "-dirty"),
        None => (rev, ""),
    };
    (hex.len() >= 7 && hex.len() <= 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("{}{dirty}", &hex.to_ascii_lowercase()[..hex.len().min(12)]))
}

fn main() {
    println!("cargo:rerun-if-env-changed=VAULTKEEPER_GIT_REV");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let from_env = std::env::var("VAULTKEEPER_GIT_REV")
        .ok()
        .and_then(|r| clean(&r));
    let from_git = if from_env.is_none() && manifest.join(".git").exists() {
        // Rebuild when HEAD moves (a commit, a checkout, a worktree's own HEAD).
        if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
            let common = git(&["rev-parse", "--git-common-dir"])
                .map(|c| manifest.join(c))
                .unwrap_or_else(|| Path::new(&dir).to_path_buf());
            println!("cargo:rerun-if-changed={dir}/HEAD");
            println!(
                "cargo:rerun-if-changed={}",
                common.join("packed-refs").display()
            );
            if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
                println!("cargo:rerun-if-changed={}", common.join(r).display());
            }
        }
        git(&["rev-parse", "--short=12", "HEAD"]).and_then(|r| clean(&r))
    } else {
        None
    };
    let rev = from_env
        .or(from_git)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=VAULTKEEPER_GIT_REV={rev}");
}
