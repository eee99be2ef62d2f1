//! `vaultkeeper provision --host NAME`: the operator side. With an admin token it
//! creates or updates the host's policy and AppRole role, generates a secret-id and
//! wraps role-id and secret-id in one single-use token, the only thing printed.
//! Running it again updates the policy and role and issues a new token.
//!
//! Every name is validated as a path segment ([`check_segment`], [`check_path`])
//! before anything is sent, the policy's strings are HCL-escaped
//! ([`hcl_string`]), and a failure part-way rolls back what this run created
//! (a new policy is deleted, an updated one restored, a new role deleted, a new
//! AppRole mount disabled, a generated secret-id destroyed). `--dry-run` prints
//! the policy and role without calling Vault.

mod apply;
mod names;
mod options;
mod rollback;

pub(crate) use apply::provision;
#[cfg(test)]
pub(crate) use names::hcl_string;
pub(crate) use options::Options;

#[cfg(test)]
mod tests;
