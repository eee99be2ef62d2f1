//! `vaultkeeper status` in words: the server, the Vault addresses in this
//! host's order, and each secret's state; and the same when Vault cannot be
//! reached ([`Outage`]).

use super::table::{age_words, ago, row, table};
use crate::clock::{coarse_words, rfc3339_secs};
use crate::insights::status::{SecretState, Status};
use crate::vault::failover::AddressState;
use std::fmt::Write;

/// One secret's state in words: fresh, served from the cache (and how old the
/// cached copy is), or never fetched.
pub(crate) fn secret_state_words(x: &SecretState, now: u64) -> String {
    if let (None, Some(_)) = (x.from_cache_since, x.boot_cache_since) {
        return match x.confirmed_at {
            Some(c) => format!(
                "rendered at boot from the cache Vault confirmed {} ago, not re-checked yet",
                age_words(now.saturating_sub(c))
            ),
            None => "rendered at boot from the cache, not re-checked yet".to_string(),
        };
    }
    match (x.from_cache_since, x.last_fetch) {
        (Some(_), Some(f)) => format!(
            "served from cache, {} old",
            age_words(now.saturating_sub(f))
        ),
        (Some(since), None) => format!("served from cache since {}", ago(now, since)),
        (None, Some(f)) => format!("fetched {} ago", age_words(now.saturating_sub(f))),
        (None, None) => "never fetched".to_string(),
    }
}

fn secrets_table(o: &mut String, secrets: &[SecretState], now: u64) {
    let _ = writeln!(o, "\nSecrets ({})", secrets.len());
    let rows = secrets
        .iter()
        .map(|x| {
            vec![
                x.name.clone(),
                secret_state_words(x, now),
                x.last_fetch.map_or("never".to_string(), |t| ago(now, t)),
                x.from_cache_since.map_or("-".to_string(), rfc3339_secs),
            ]
        })
        .collect();
    o.push_str(&table(
        "  ",
        Some(&["NAME", "STATE", "LAST FETCH FROM VAULT", "FROM CACHE SINCE"]),
        rows,
    ));
    for x in secrets {
        if let Some(e) = &x.last_error {
            let _ = writeln!(
                o,
                "  {}: last error: {}",
                x.name,
                crate::report::text::one_line(e)
            );
        }
    }
}

pub(crate) fn status(s: &Status, now: u64) -> String {
    let v = &s.server;
    let mut rows = vec![row(&["Server", &v.address])];
    let state = if !v.initialized {
        "NOT INITIALISED"
    } else if v.sealed {
        "SEALED"
    } else {
        "unsealed"
    };
    rows.push(row(&["  state", state]));
    rows.push(row(&[
        "  version",
        &format!(
            "{}{}",
            v.version.as_deref().unwrap_or("unknown"),
            v.build_date
                .as_deref()
                .map(|d| format!(" (built {d})"))
                .unwrap_or_default()
        ),
    ]));
    let ha = match (v.ha_enabled, v.is_leader) {
        (Some(true), Some(true)) => "enabled, this node is the leader".to_string(),
        (Some(true), _) => format!(
            "enabled, leader {}",
            v.leader_address.as_deref().unwrap_or("unknown")
        ),
        (Some(false), _) => "disabled".into(),
        (None, _) => "unknown".into(),
    };
    rows.push(row(&["  HA", &ha]));
    rows.push(row(&[
        "  cluster",
        v.cluster_name.as_deref().unwrap_or("unknown"),
    ]));
    let na = |key: &str| {
        s.not_assessed
            .get(key)
            .map(|r| format!("not assessed: {r}"))
    };
    let audit = na("auditDevices").unwrap_or_else(|| {
        let list = s
            .audit_devices
            .iter()
            .flatten()
            .map(|d| format!("{} ({})", d.path, d.kind))
            .collect::<Vec<_>>();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    });
    rows.push(row(&["Audit devices", &audit]));
    rows.push(row(&[
        "Auth methods",
        &na("authMethods").unwrap_or_else(|| s.auth_methods.unwrap_or(0).to_string()),
    ]));
    rows.push(row(&[
        "Secrets engines",
        &na("secretsEngines").unwrap_or_else(|| s.secrets_engines.unwrap_or(0).to_string()),
    ]));
    let token = na("token").unwrap_or_else(|| match &s.token {
        Some(t) => format!(
            "{} from {}, {}, policies {}",
            t.display_name.as_deref().unwrap_or("?"),
            t.source.label(),
            if t.ttl_seconds == 0 {
                "never expires".to_string()
            } else {
                format!("TTL {}", coarse_words(t.ttl_seconds))
            },
            t.policies.join(", ")
        ),
        None => "none".to_string(),
    });
    rows.push(row(&["Token", &token]));
    let mut o = table("", None, rows);
    if let Some(w) = &s.audit_warning {
        let _ = writeln!(o, "  !!! WARNING: {w}");
    }
    addresses_table(&mut o, &s.addresses, now);
    secrets_table(&mut o, &s.secrets, now);
    o
}

/// With several `vault.address`es: each one, in this host's order, with its
/// last state (one address: nothing, the Server line says it all).
pub(crate) fn addresses_table(o: &mut String, addresses: &[AddressState], now: u64) {
    if addresses.len() < 2 {
        return;
    }
    let _ = writeln!(
        o,
        "\nVault addresses ({}, in this host's order)",
        addresses.len()
    );
    let rows = addresses
        .iter()
        .map(|a| {
            let mut role = Vec::new();
            if a.preferred {
                role.push("preferred");
            }
            if a.in_use {
                role.push("in use");
            }
            vec![
                a.address.clone(),
                if role.is_empty() {
                    "-".to_string()
                } else {
                    role.join(", ")
                },
                match (&a.last_outcome, a.last_at) {
                    (Some(out), Some(t)) => format!("{out} {}", ago(now, t)),
                    _ => "not asked yet".to_string(),
                },
                a.last_ok_at.map_or("never".to_string(), |t| ago(now, t)),
            ]
        })
        .collect();
    o.push_str(&table(
        "  ",
        Some(&["ADDRESS", "ROLE", "LAST REQUEST", "LAST ANSWER"]),
        rows,
    ));
    for a in addresses {
        if let Some(e) = &a.last_error {
            let _ = writeln!(
                o,
                "  {}: last error: {}",
                a.address,
                crate::report::text::one_line(e)
            );
        }
    }
}

/// What `vaultkeeper status` says when Vault cannot be reached at all: the
/// reason, and each secret with where its files come from now.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Outage {
    pub server: OutageServer,
    pub secrets: Vec<SecretState>,
    pub addresses: Vec<AddressState>,
}

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutageServer {
    pub address: String,
    /// Always false here (the JSON of a reachable server has no such key).
    pub reachable: bool,
    pub error: String,
}

pub(crate) fn outage(x: &Outage, now: u64) -> String {
    let mut o = table(
        "",
        None,
        vec![
            row(&["Server", &x.server.address]),
            row(&["  state", "UNREACHABLE"]),
            row(&["  error", &x.server.error]),
        ],
    );
    addresses_table(&mut o, &x.addresses, now);
    secrets_table(&mut o, &x.secrets, now);
    o
}
