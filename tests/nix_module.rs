//! The NixOS module, evaluated for real with nixpkgs' lib (nix/tests/eval.nix):
//! the JSON spec it generates, its units, its checks, its option docs.
//! Fails when nixpkgs' lib or nix-instantiate is missing; skipped (loudly, and
//! counted by scripts/test.sh) only with VAULTKEEPER_SKIP_NIX=1 (see
//! tests/support/nix_eval.rs).
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

#[path = "support/loud.rs"]
mod loud;
#[path = "support/nix_eval.rs"]
mod nix_eval;

#[path = "nix_module/addresses.rs"]
mod addresses;
#[path = "nix_module/chat.rs"]
mod chat;
#[path = "nix_module/checks.rs"]
mod checks;
#[path = "nix_module/docs.rs"]
mod docs;
#[path = "nix_module/ergonomics.rs"]
mod ergonomics;
#[path = "nix_module/metrics.rs"]
mod metrics;
#[path = "nix_module/migrate.rs"]
mod migrate;
#[path = "nix_module/parse.rs"]
mod parse;
#[path = "nix_module/paths.rs"]
mod paths;
#[path = "nix_module/spec.rs"]
mod spec;
#[path = "nix_module/templates.rs"]
mod templates;
#[path = "nix_module/units.rs"]
mod units;

/// The fake store path of the package in nix/tests/pkgs.nix.
const PKG: &str = "/nix/store/4506a7d859bee29ca07e46a5e0e7af99-vaultkeeper-0.1.0";

/// `Nix`, or return from the test after a loud SKIPPED line (VAULTKEEPER_SKIP_NIX=1 only).
macro_rules! nix_or_skip {
    ($test:literal) => {
        match $crate::nix_eval::Nix::find($test) {
            Some(n) => n,
            None => return,
        }
    };
}
use nix_or_skip;
