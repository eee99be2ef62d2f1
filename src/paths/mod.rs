//! Where vaultkeeper may write, in one place: the rules for `outputDir`,
//! `cacheDir` and `stateDir` that `check`, `fetch` and the daemon apply when
//! they load a spec ([`check_layout`], applied by `spec`), and the run-time rules for the
//! directories on the way to them ([`walk`]).
//!
//! The list of system directories is data, `nix/path-rules.json`, compiled in
//! here and read by the NixOS module with `builtins.fromJSON`, so both refuse
//! the same paths. Every refusal names the JSON path, the rule and the fix; the
//! rules are listed with their tests in `docs/explanation/security-model.md`.

mod dir_rules;
mod layout;
mod refusal;
mod system;
pub mod walk;

pub use dir_rules::{own_rules, state_dir, syntax};
pub use layout::{check_layout, Credential, Dir};
pub use refusal::Refusal;
pub use system::{rules, system_reason, Rules, RULES_JSON};

#[cfg(test)]
mod tests;
