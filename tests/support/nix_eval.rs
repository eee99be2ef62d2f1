//! Evaluates the NixOS module with nixpkgs' lib through `nix-instantiate`
//! (tests/nix/eval.nix + one scenario under tests/nix/scenarios/).
//!
//! nixpkgs' lib is found at `$NIXPKGS_LIB`, else /var/cache/nixpkgs-lib/lib
//! (scripts/nixpkgs-lib.sh puts it there). Without it or without nix-instantiate
//! a test prints a loud SKIPPED line and returns; with
//! `VAULTKEEPER_REQUIRE_NIX=1` it fails instead.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEFAULT_LIB: &str = "/var/cache/nixpkgs-lib/lib";

pub struct Nix {
    lib: PathBuf,
}

impl Nix {
    /// The evaluator, or `None` after a loud SKIPPED line.
    pub fn find(test: &str) -> Option<Nix> {
        let lib = std::env::var_os("NIXPKGS_LIB")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LIB));
        let why = if !lib.join("default.nix").is_file() {
            format!(
                "no nixpkgs lib at {} (set NIXPKGS_LIB, or run scripts/nixpkgs-lib.sh)",
                lib.display()
            )
        } else if Command::new("nix-instantiate")
            .arg("--version")
            .output()
            .is_err()
        {
            "nix-instantiate is not installed (apt-get install nix-bin)".to_string()
        } else {
            return Some(Nix { lib });
        };
        if std::env::var("VAULTKEEPER_REQUIRE_NIX").as_deref() == Ok("1") {
            panic!("{test}: {why}, and VAULTKEEPER_REQUIRE_NIX=1");
        }
        super::loud::skipped(test, &format!("module evaluation not run: {why}"));
        None
    }

    pub fn lib(&self) -> &Path {
        &self.lib
    }

    fn instantiate(&self, scenario: &str, attr: Option<&str>) -> Output {
        let scenario = repo()
            .join("tests/nix/scenarios")
            .join(format!("{scenario}.nix"));
        assert!(scenario.is_file(), "no scenario {}", scenario.display());
        let mut cmd = Command::new("nix-instantiate");
        cmd.args(["--eval", "--strict", "--json"])
            .arg(repo().join("tests/nix/eval.nix"))
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

    /// Everything tests/nix/eval.nix returns for `scenario`; panics with Nix's
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

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
