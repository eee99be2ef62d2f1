//! Evaluates the NixOS module with nixpkgs' lib through `nix-instantiate`
//! (nix/tests/eval.nix + one scenario under nix/tests/scenarios/).
//!
//! nixpkgs' lib comes from scripts/nixpkgs-lib.sh (`$NIXPKGS_LIB`, its cache,
//! the offline mirror in ../shared/vendor, the network, in that order). When
//! neither it nor nix-instantiate can be found the test FAILS, saying how to
//! provide them; `VAULTKEEPER_SKIP_NIX=1` is the only way to skip (a loud
//! SKIPPED line that scripts/test.sh counts).
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub struct Nix {
    lib: PathBuf,
}

/// `VAULTKEEPER_SKIP_NIX=1`: the one explicit way to not run the Nix tests.
pub fn skip_requested(test: &str) -> bool {
    if std::env::var("VAULTKEEPER_SKIP_NIX").as_deref() == Ok("1") {
        super::loud::skipped(
            test,
            "VAULTKEEPER_SKIP_NIX=1: the NixOS module tests are not run",
        );
        return true;
    }
    false
}

/// Panics unless nix-instantiate runs.
pub fn require_nix_instantiate(test: &str) {
    if let Err(e) = Command::new("nix-instantiate").arg("--version").output() {
        panic!(
            "{test}: cannot run nix-instantiate ({e}): install Nix (Debian: apt-get install nix-bin), \
             or skip the NixOS module tests explicitly with VAULTKEEPER_SKIP_NIX=1"
        );
    }
}

/// The first nix-instantiate on an empty `$NIX_STATE_DIR` (the Nix sandbox's
/// `$TMPDIR/nix-state`, nix/tests/module-eval.nix) creates its profiles and
/// gcroots links; tests starting at once race there ("creating symlink ...:
/// File exists"). One evaluation, once per test binary, before any other.
fn init_state_dir(test: &str) {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let r = DONE.get_or_init(|| {
        let out = Command::new("nix-instantiate")
            .args(["--eval", "--expr", "0"])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    if let Err(e) = r {
        panic!("{test}: nix-instantiate cannot evaluate `0` (its state directory, $NIX_STATE_DIR?):\n{e}");
    }
}

/// nixpkgs' lib: `$NIXPKGS_LIB`, else what scripts/nixpkgs-lib.sh finds (once
/// per test binary).
fn nixpkgs_lib() -> Result<PathBuf, String> {
    static LIB: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    LIB.get_or_init(|| {
        let script = repo().join("scripts/nixpkgs-lib.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(stderr.into_owned());
        }
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let lib = PathBuf::from(&path);
        if !lib.join("default.nix").is_file() {
            return Err(format!(
                "scripts/nixpkgs-lib.sh printed {path:?}, which has no default.nix:\n{stderr}"
            ));
        }
        Ok(lib)
    })
    .clone()
}

impl Nix {
    /// The evaluator; `None` (after a loud SKIPPED line) only with
    /// `VAULTKEEPER_SKIP_NIX=1`. Panics, saying how to fix it, when nixpkgs'
    /// lib or nix-instantiate is missing.
    pub fn find(test: &str) -> Option<Nix> {
        if skip_requested(test) {
            return None;
        }
        require_nix_instantiate(test);
        init_state_dir(test);
        match nixpkgs_lib() {
            Ok(lib) => Some(Nix { lib }),
            Err(why) => panic!("{test}: no nixpkgs lib for the module evaluation:\n{why}"),
        }
    }

    pub fn lib(&self) -> &Path {
        &self.lib
    }

    fn instantiate(&self, scenario: &str, attr: Option<&str>) -> Output {
        let scenario = repo()
            .join("nix/tests/scenarios")
            .join(format!("{scenario}.nix"));
        assert!(scenario.is_file(), "no scenario {}", scenario.display());
        let mut cmd = Command::new("nix-instantiate");
        cmd.args(["--eval", "--strict", "--json"])
            .arg(repo().join("nix/tests/eval.nix"))
            .arg("--argstr")
            .arg("nixpkgsLib")
            .arg(&self.lib)
            .arg("--argstr")
            .arg("scenario")
            .arg(&scenario);
        if let Some(a) = attr {
            cmd.args(["-A", a]);
        }
        cmd.output().expect("run nix-instantiate")
    }

    /// Everything nix/tests/eval.nix returns for `scenario`; panics with Nix's
    /// error when the evaluation fails.
    pub fn eval(&self, scenario: &str) -> Value {
        let out = self.instantiate(scenario, None);
        assert!(
            out.status.success(),
            "evaluating scenario {scenario} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("nix-instantiate printed JSON")
    }

    /// Nix's error message for a scenario whose `attr` must not evaluate.
    pub fn eval_error(&self, scenario: &str, attr: &str) -> String {
        let out = self.instantiate(scenario, Some(attr));
        assert!(
            !out.status.success(),
            "scenario {scenario} evaluated, but it must fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A Nix expression's value, with `lib` bound to nixpkgs' lib.
    pub fn eval_expr(&self, expr: &str) -> Value {
        let out = Command::new("nix-instantiate")
            .args(["--eval", "--strict", "--json", "--expr"])
            .arg(expr)
            .current_dir(repo())
            .output()
            .expect("run nix-instantiate");
        assert!(
            out.status.success(),
            "evaluating {expr} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("nix-instantiate printed JSON")
    }
}

/// `vaultkeeper --spec FILE check` on the text of a spec the module generated
/// (written to a temporary file), without a Vault address from the environment.
pub fn vaultkeeper_check(spec_text: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.json");
    std::fs::write(&path, spec_text).unwrap();
    Command::new(env!("CARGO_BIN_EXE_vaultkeeper"))
        .arg("--spec")
        .arg(&path)
        .arg("check")
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .output()
        .expect("run vaultkeeper check")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
