//! Trust on first use of the Vault address, for a spec written without one
//! (`"address": null, "addressFrom": "firstBoot"`: the NixOS module writes it
//! when `vault.address` is unset, as in the seed design's configurations, whose
//! module read `VAULT_ADDR` from cloud-init's `/etc/environment` at boot).
//!
//! - The address is then the one in `<stateDir>/vault-address`: a regular file
//!   owned by the running user (root), mode 0600, at most 4 KiB, read with the
//!   bounded reader of [`crate::input`] (a symlink, a group/world-writable or
//!   foreign-owned file is refused), holding one address checked by
//!   [`check_pinnable`].
//! - Only `bootstrap`, and only while that file does not exist, takes
//!   `BAO_ADDR`/`VAULT_ADDR` from its environment (the root-owned environment
//!   file that also carries the wrapped token: whoever can write it already
//!   chooses the token), checks it and pins it (temp file, fsync, rename, fsync
//!   the directory) before anything is sent to Vault.
//! - Once pinned, no command reads the address from the environment again: a
//!   different `VAULT_ADDR` is ignored with a WARN. To move the host to another
//!   Vault, set `vault.address` (the spec's address always wins) or remove the
//!   file and bootstrap again.
//! - Any other command without a pinned address fails with exit 2, saying to
//!   set `vault.address` or to run bootstrap with `VAULT_ADDR`.

use crate::spec::{Spec, SpecError};
use std::path::{Path, PathBuf};

/// The file's name in `stateDir`.
pub(crate) const FILE: &str = "vault-address";

/// Longest address accepted from the environment or the pinned file.
const MAX_LEN: usize = 2048;

/// `<stateDir>/vault-address`.
pub(crate) fn path(spec: &Spec) -> PathBuf {
    spec.state_dir.join(FILE)
}

/// Whether the address may come from the environment (bootstrap) or only from
/// the pinned file (every other command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `bootstrap`: pins `BAO_ADDR`/`VAULT_ADDR` when nothing is pinned yet.
    MayPin,
    /// Everything that talks to Vault: the pinned file or nothing.
    PinnedOnly,
    /// Commands that never talk to Vault (`audit listen`): left unresolved.
    NotNeeded,
}

fn env_addr(env: &impl Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
    ["BAO_ADDR", "VAULT_ADDR"]
        .into_iter()
        .find_map(|v| env(v).filter(|a| !a.trim().is_empty()).map(|a| (v, a)))
}

/// The rules of an address taken on trust: those of a spec address (an
/// `http(s)` URL with a host), and moreover https unless the host is a loopback
/// address (the unwrap and the AppRole login would otherwise cross the network
/// in clear), no user name or password, query or fragment, one address, at
/// most 2 KiB of printable text. Returns the address without trailing `/`.
pub(crate) fn check_pinnable(addr: &str) -> Result<String, String> {
    let addr = addr.trim();
    if addr.len() > MAX_LEN {
        return Err(format!(
            "it is {} bytes long, more than {MAX_LEN}",
            addr.len()
        ));
    }
    if addr.is_empty() || addr.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("it is not one URL (empty, or spaces or control characters in it)".to_string());
    }
    crate::spec::check_address(addr)?;
    let url = reqwest::Url::parse(addr).map_err(|e| format!("{addr:?} is not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{addr:?} holds a user name or password; write the address alone"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{addr:?} has a query or fragment; write the address alone, e.g. \"https://vault.example.org:8200\""
        ));
    }
    let host = url.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() != "https" && !loopback {
        return Err(format!(
            "{addr:?} is plain http to a host that is not this machine: the wrapped token and the AppRole credentials would cross the network in clear; use https (or set vault.address in the configuration if you really mean it)"
        ));
    }
    Ok(addr.trim_end_matches('/').to_string())
}

fn invalid(spec_file: &Path, path: &str, message: String) -> SpecError {
    SpecError::Invalid {
        file: spec_file.display().to_string(),
        path: path.to_string(),
        message,
    }
}

/// Fills `spec.vault.address(es)` from the pinned file when the spec has no
/// address (see the module doc); with [`Source::MayPin`] and nothing pinned,
/// pins `BAO_ADDR`/`VAULT_ADDR` first. A spec with an address is left alone.
pub(crate) fn resolve(
    spec: &mut Spec,
    spec_file: &Path,
    env: impl Fn(&str) -> Option<String>,
    source: Source,
) -> Result<(), SpecError> {
    if !spec.vault.address_from_first_boot || source == Source::NotNeeded {
        return Ok(());
    }
    let pin = path(spec);
    let addr = match crate::input::read(&pin, crate::input::Input::PinnedAddress) {
        Ok(bytes) => {
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                invalid(
                    spec_file,
                    "vault.addressFrom",
                    format!("the pinned address in {} is not UTF-8 text; remove the file and run `vaultkeeper bootstrap` with VAULT_ADDR, or set vault.address", pin.display()),
                )
            })?;
            let addr = check_pinnable(text).map_err(|why| {
                invalid(
                    spec_file,
                    "vault.addressFrom",
                    format!("the pinned address in {} is refused: {why}; remove the file and run `vaultkeeper bootstrap` with VAULT_ADDR, or set vault.address", pin.display()),
                )
            })?;
            if let Some((var, other)) = env_addr(&env) {
                if other.trim().trim_end_matches('/') != addr {
                    tracing::warn!(
                        "{var}={other} is IGNORED: this host's Vault address was pinned at the first boot in {} ({addr}), and the environment never changes it; to move the host, set vault.address (or remove that file and bootstrap again)",
                        pin.display()
                    );
                }
            }
            addr
        }
        Err(e) if e.is_not_found() && source == Source::MayPin => pin_from_env(&pin, spec_file, &env)?,
        Err(e) if e.is_not_found() => {
            return Err(invalid(
                spec_file,
                "vault.address",
                format!("is not set and no address is pinned in {}: set vault.address (the NixOS option) to the URL of Vault, or run `vaultkeeper bootstrap` with VAULT_ADDR (or BAO_ADDR) in its environment, which pins it", pin.display()),
            ))
        }
        Err(e) => {
            return Err(invalid(
                spec_file,
                "vault.addressFrom",
                format!("the pinned Vault address {} is refused: {}; if you did not put it there, someone else may have: check it, then remove it and run `vaultkeeper bootstrap` with VAULT_ADDR, or set vault.address", pin.display(), e.reason()),
            ))
        }
    };
    spec.vault.address = addr.clone();
    spec.vault.addresses = vec![addr];
    Ok(())
}

fn pin_from_env(
    pin: &Path,
    spec_file: &Path,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, SpecError> {
    let Some((var, value)) = env_addr(env) else {
        return Err(invalid(
            spec_file,
            "vault.address",
            format!("is not set, nothing is pinned in {} yet, and neither BAO_ADDR nor VAULT_ADDR is in bootstrap's environment: set vault.address (the NixOS option), or put VAULT_ADDR=https://... in the environment file that carries the wrapped token (cloud-init's /etc/environment)", pin.display()),
        ));
    };
    let addr = check_pinnable(&value).map_err(|why| {
        invalid(
            spec_file,
            "vault.address",
            format!("is not set, and {var} cannot be pinned as this host's Vault address: {why}; nothing was pinned; fix {var} in the environment file, or set vault.address"),
        )
    })?;
    let dir_path = pin.parent().unwrap_or(Path::new("/"));
    let write = || -> Result<(), crate::fs::FsError> {
        let dir = crate::paths::walk::open_dir(dir_path, Some(0o700)).map_err(|e| e.into_fs())?;
        crate::fs::replace_file(dir, FILE, format!("{addr}\n").as_bytes(), 0o600, dir_path)
    };
    write().map_err(|e| {
        invalid(
            spec_file,
            "vault.address",
            format!("cannot pin {var}={addr} in {}: {e}; nothing was sent to Vault; fix the state directory, or set vault.address", pin.display()),
        )
    })?;
    tracing::warn!(
        "PINNED {addr} (from {var}) in {} as this host's Vault address: from now on it is used whatever the environment says; set vault.address in the configuration to make it explicit",
        pin.display()
    );
    Ok(addr)
}

#[cfg(test)]
mod tests;
