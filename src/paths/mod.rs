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
pub(crate) mod walk;

pub(crate) use dir_rules::{state_dir, syntax};
pub(crate) use layout::{check_layout, Dir};
pub(crate) use refusal::Refusal;
#[cfg(test)]
pub(crate) use system::rules;
pub(crate) use system::system_reason;

#[cfg(test)]
mod tests;
