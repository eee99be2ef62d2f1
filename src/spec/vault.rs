//! The `vault` section: the address or the cluster's addresses (or the one
//! pinned at first boot), TLS, the timeout and the largest answer read.

use super::error::Problem;
use super::fields::{abs_path, duration};
use super::model::{VaultSpec, ADDRESS_FROM_FIRST_BOOT, MAX_ADDRESSES};
use super::{raw, size};
use std::time::Duration;

/// The default of `vault.maxResponseSize`: 32 MiB.
pub(crate) const DEFAULT_MAX_RESPONSE_SIZE: u64 = 32 * 1024 * 1024;

/// After this long on another address, the preferred one is tried first again
/// (the default of `vault.failback`).
pub(crate) const FAILBACK_AFTER: Duration = Duration::from_secs(10 * 60);

pub(crate) fn check_address(addr: &str) -> Result<(), String> {
    match reqwest::Url::parse(addr) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => {
            Ok(())
        }
        _ => Err(format!(
            "{addr:?} is not a Vault address; write e.g. \"https://vault.example.org:8200\""
        )),
    }
}

pub(crate) fn resolve_addresses(
    raw: raw::RawAddresses,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let (list, single) = match raw {
        raw::RawAddresses::One(a) => (vec![a], true),
        raw::RawAddresses::Many(l) => (l, false),
    };
    if list.is_empty() {
        problems.push(Problem::new(
            "vault.address",
            "the list is empty; write one address, or the addresses of the cluster's nodes",
        ));
    }
    if list.len() > MAX_ADDRESSES {
        problems.push(Problem::new(
            "vault.address",
            format!(
                "{} addresses; at most {MAX_ADDRESSES} (the nodes of one cluster)",
                list.len()
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let at = if single {
            "vault.address".to_string()
        } else {
            format!("vault.address[{i}]")
        };
        if let Err(m) = check_address(a) {
            problems.push(Problem::new(at, m));
            continue;
        }
        let a = a.trim_end_matches('/').to_string();
        let origin = super::origin::Origin::parse(&a);
        if out
            .iter()
            .any(|o| super::origin::Origin::parse(o) == origin)
        {
            problems.push(Problem::new(at, format!("{a:?} is listed twice")));
            continue;
        }
        out.push(a);
    }
    out
}

pub(crate) fn max_response_size(problems: &mut Vec<Problem>, raw: Option<raw::RawSize>) -> u64 {
    const MIN: u64 = 64 << 10;
    const MAX: u64 = 1 << 30;
    let size = match raw {
        None => return DEFAULT_MAX_RESPONSE_SIZE,
        Some(raw::RawSize::Bytes(n)) => Ok(n),
        Some(raw::RawSize::Text(t)) => size::parse_size(&t),
    };
    match size {
        Ok(n) if (MIN..=MAX).contains(&n) => n,
        Ok(n) => {
            problems.push(Problem::new(
                "vault.maxResponseSize",
                format!("{n} bytes is outside 64KiB..1GiB; the default \"32MiB\" fits any secret"),
            ));
            DEFAULT_MAX_RESPONSE_SIZE
        }
        Err(m) => {
            problems.push(Problem::new("vault.maxResponseSize", m));
            DEFAULT_MAX_RESPONSE_SIZE
        }
    }
}

pub(crate) fn resolve_vault_address(
    raw: Option<raw::RawAddresses>,
    from: Option<&str>,
    problems: &mut Vec<Problem>,
) -> (Vec<String>, bool) {
    match (raw, from) {
        (Some(a), None) => (resolve_addresses(a, problems), false),
        (None, Some(ADDRESS_FROM_FIRST_BOOT)) => (Vec::new(), true),
        (Some(_), Some(_)) => {
            problems.push(Problem::new(
                "vault.addressFrom",
                "is only for a spec without an address: remove it, vault.address says where Vault is",
            ));
            (Vec::new(), false)
        }
        (None, Some(other)) => {
            problems.push(Problem::new(
                "vault.addressFrom",
                format!("{other:?} is not \"{ADDRESS_FROM_FIRST_BOOT}\" (the one value: the address bootstrap pins at the first boot)"),
            ));
            (Vec::new(), false)
        }
        (None, None) => {
            problems.push(Problem::new(
                "vault.address",
                format!("is not set; write the URL of Vault, e.g. \"https://vault.example.org:8200\" (or \"address\": null with \"addressFrom\": \"{ADDRESS_FROM_FIRST_BOOT}\" to pin the VAULT_ADDR bootstrap finds at the first boot)"),
            ));
            (Vec::new(), false)
        }
    }
}

/// `vault.failback`: a duration from one second to one day.
fn failback(problems: &mut Vec<Problem>, value: Option<&str>) -> Duration {
    let d = duration(problems, "vault.failback", value, FAILBACK_AFTER);
    if d < Duration::from_secs(1) || d > Duration::from_secs(86_400) {
        problems.push(Problem::new(
            "vault.failback",
            "must be between 1s and 1d, e.g. \"10m\" (the time after which a host that left its first address tries it first again)",
        ));
        return FAILBACK_AFTER;
    }
    d
}

/// The `vault` section.
pub(crate) fn resolve_vault(v: raw::RawVault, problems: &mut Vec<Problem>) -> VaultSpec {
    let (addresses, address_from_first_boot) =
        resolve_vault_address(v.address, v.address_from.as_deref(), problems);
    let timeout = duration(
        problems,
        "vault.timeout",
        v.timeout.as_deref(),
        Duration::from_secs(10),
    );
    if timeout.is_zero() {
        problems.push(Problem::new(
            "vault.timeout",
            "must be longer than zero, e.g. \"10s\"",
        ));
    }
    VaultSpec {
        address: addresses.first().cloned().unwrap_or_default(),
        addresses,
        namespace: v.namespace.filter(|s| !s.is_empty()),
        ca_cert: v
            .ca_cert
            .as_deref()
            .map(|c| abs_path(problems, "vault.caCert", c)),
        skip_verify: v.skip_verify,
        timeout,
        max_response_size: max_response_size(problems, v.max_response_size),
        failback: failback(problems, v.failback.as_deref()),
        address_from_first_boot,
    }
}
