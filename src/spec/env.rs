//! The Vault CLI's environment variables (`VAULT_*`, `BAO_*`) against the spec.
//!
//! The spec decides where credentials go and how Vault is verified; the
//! environment only fills what the spec leaves unset. An environment file a
//! unit loads (cloud-init's `/etc/environment`) is not a place to weaken TLS:
//!
//! - `VAULT_ADDR`/`BAO_ADDR`: ignored (WARN) when it differs from `vault.address`;
//!   it is the address only on an operator's machine without a spec
//!   ([`super::Spec::from_env`]).
//! - `VAULT_CACERT`/`BAO_CACERT`, `VAULT_NAMESPACE`/`BAO_NAMESPACE`: used when the
//!   spec has no `vault.caCert` / `vault.namespace`, else ignored (WARN if different).
//! - `VAULT_SKIP_VERIFY`/`BAO_SKIP_VERIFY`: never turns verification off, ignored
//!   with a WARN; only the spec's `vault.skipVerify` can.
//!
//! `BAO_*` wins over `VAULT_*` when both are set, as in OpenBao's own CLI.

use super::{check_address, Spec, SpecError};
use std::path::PathBuf;

fn get(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<(String, String)> {
    for prefix in ["BAO_", "VAULT_"] {
        let var = format!("{prefix}{name}");
        if let Some(v) = env(&var) {
            return Some((var, v));
        }
    }
    None
}

/// Applies the environment to a spec loaded from a file (see the module doc).
pub(super) fn apply(
    spec: &mut Spec,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(), SpecError> {
    // A spec without an address: crate::pin decided (and warned) already.
    if let Some((var, addr)) = get(&env, "ADDR").filter(|_| !spec.vault.address_from_first_boot) {
        if !spec
            .vault
            .addresses
            .iter()
            .any(|a| a == addr.trim_end_matches('/'))
        {
            tracing::warn!(
                "{var}={addr} is IGNORED: credentials go only to the spec's vault.address ({}); change the spec to move to another Vault",
                spec.vault.address
            );
        }
    }
    if let Some((var, ns)) = get(&env, "NAMESPACE") {
        match &spec.vault.namespace {
            None => spec.vault.namespace = (!ns.is_empty()).then_some(ns),
            Some(own) if *own != ns => {
                tracing::warn!("{var}={ns} is ignored: the spec sets vault.namespace to {own}")
            }
            Some(_) => {}
        }
    }
    if let Some((var, ca)) = get(&env, "CACERT") {
        match &spec.vault.ca_cert {
            None => spec.vault.ca_cert = (!ca.is_empty()).then(|| PathBuf::from(ca)),
            Some(own) if own.as_os_str() != ca.as_str() => tracing::warn!(
                "{var}={ca} is ignored: the spec sets vault.caCert to {}",
                own.display()
            ),
            Some(_) => {}
        }
    }
    warn_skip_verify(&env);
    Ok(())
}

fn warn_skip_verify(env: &impl Fn(&str) -> Option<String>) {
    for var in ["BAO_SKIP_VERIFY", "VAULT_SKIP_VERIFY"] {
        if let Some(v) = env(var) {
            if !matches!(v.to_ascii_lowercase().as_str(), "" | "0" | "false" | "no") {
                tracing::warn!(
                    "{var}={v} is IGNORED: the environment (e.g. /etc/environment) never turns TLS verification off; only the spec's vault.skipVerify can"
                );
            }
        }
    }
}

impl Spec {
    /// The spec of an operator's machine without a spec file: Vault at
    /// `VAULT_ADDR`/`BAO_ADDR` (required), `*_CACERT` and `*_NAMESPACE` from the
    /// environment, TLS always verified.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Spec, SpecError> {
        let Some((var, addr)) = get(&env, "ADDR") else {
            return Err(SpecError::Invalid {
                file: "environment".into(),
                path: "VAULT_ADDR/BAO_ADDR".into(),
                message: "is not set; say where Vault is with one of them".into(),
            });
        };
        check_address(&addr).map_err(|message| SpecError::Invalid {
            file: "environment".into(),
            path: var,
            message,
        })?;
        let minimal = serde_json::json!({ "vault": { "address": addr } }).to_string();
        let mut spec = Spec::from_json("environment", &minimal)?;
        apply(&mut spec, env)?;
        Ok(spec)
    }
}
