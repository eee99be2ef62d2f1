//! The declarative JSON spec: the contract between the NixOS module and the agent.
//!
//! [`Spec::load`] reads a file, rejects unknown keys, fills in defaults and validates
//! every value; every error names the JSON path and what to write instead. It needs
//! no network, no users and no existing paths, so `vaultkeeper check` can run it at
//! NixOS build time. [`Spec::apply_env`] then applies the Vault CLI's environment
//! overrides (`VAULT_ADDR`, `BAO_ADDR`, ...), which `check` does not.
//!
//! - [`model`]: the resolved [`Spec`] and its parts;
//! - [`load`]: file → text → [`Spec`], then the pinned address and the environment;
//! - [`resolve`]: the raw JSON ([`raw`]) → [`Spec`], each section in its own file
//!   ([`vault`], [`approle`], [`secret`], [`insights`], [`metrics`], [`audit`],
//!   [`slack`], [`chat`]);
//! - [`fields`]: checks of single values several sections share;
//! - [`error`]: [`SpecError`], every problem with its JSON path.

mod approle;
pub(crate) mod audit;
mod boot_cache;
pub(crate) mod chat;
#[cfg(test)]
mod defaults_file;
mod env;
mod error;
mod fields;
pub(crate) mod insights;
pub(crate) mod interval;
mod load;
pub(crate) mod metrics;
pub(crate) mod mode;
mod model;
mod on_change;
mod origin;
mod path_rules;
mod raw;
mod resolve;
mod secret;
pub(crate) mod size;
pub(crate) mod slack;
pub(crate) mod template;
mod vault;

pub(crate) use error::from_problems as error_from_problems;
pub(crate) use error::{Problem, SpecError};
pub(crate) use fields::{check_secret_name, check_segment};
pub(crate) use load::{load_spec, load_spec_from, load_spec_or_env};
pub(crate) use model::LoginBackoff;
pub(crate) use model::{unit_name, AppRoleSpec, VaultSpec, DEFAULT_SPEC_PATH, MAX_ADDRESSES};
pub use model::{KvVersion, SecretSpec, Spec};
pub use on_change::OnChange;
pub(crate) use origin::Origin;
pub(crate) use vault::check_address;

#[cfg(test)]
mod tests;
