//! `vaultkeeper status`: the server (seal, version, HA, cluster), its audit
//! devices, how many auth methods and secrets engines it has, this host's token
//! and each secret's fetch state from `<stateDir>/status/`.

use super::reads::{data, not_assessed, read_unauthenticated};
use super::token::TokenSource;
use crate::spec::Spec;
use crate::state;
use crate::vault::VaultClient;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Server {
    pub address: String,
    pub initialized: bool,
    pub sealed: bool,
    pub version: Option<String>,
    /// OpenBao reports `commit_date`, Vault `build_date`.
    pub build_date: Option<String>,
    pub cluster_name: Option<String>,
    pub storage_type: Option<String>,
    pub ha_enabled: Option<bool>,
    /// True when the node answering is the active one.
    pub is_leader: Option<bool>,
    pub leader_address: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditDevice {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenInfo {
    pub source: TokenSource,
    pub display_name: Option<String>,
    /// Seconds left; 0 = never expires.
    pub ttl_seconds: u64,
    pub expire_time: Option<String>,
    pub policies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SecretState {
    pub name: String,
    pub last_fetch: Option<u64>,
    pub version: Option<u64>,
    /// Unix seconds since when the secret is served from the cache; null when fresh.
    pub from_cache_since: Option<u64>,
    pub last_error: Option<String>,
    /// Unix seconds since when the files are the cache `fetch` rendered at
    /// boot without Vault (`bootCacheMaxAge`); null once the daemon checked.
    #[serde(default)]
    pub boot_cache_since: Option<u64>,
    /// Unix seconds of Vault's last confirmation of the cached data.
    #[serde(default)]
    pub confirmed_at: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Status {
    pub server: Server,
    pub audit_devices: Option<Vec<AuditDevice>>,
    /// Set when a socket device has no file device beside it (or there is none).
    pub audit_warning: Option<String>,
    pub auth_methods: Option<usize>,
    pub secrets_engines: Option<usize>,
    pub token: Option<TokenInfo>,
    pub secrets: Vec<SecretState>,
    /// Every `vault.address` in this host's order with its last state
    /// ([`address_states`]); `server.address` is the one that answered.
    #[serde(default)]
    pub addresses: Vec<crate::vault::failover::AddressState>,
    /// What could not be read and why (key: the field above).
    pub not_assessed: BTreeMap<String, String>,
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Seal state, version, cluster and HA from the unauthenticated endpoints.
/// Fails only when the server cannot be reached at all.
pub(crate) async fn server(client: &VaultClient) -> Result<Server, crate::vault::VaultError> {
    let seal = read_unauthenticated(client, "sys/seal-status").await?;
    let leader = if seal["sealed"].as_bool() == Some(false) {
        read_unauthenticated(client, "sys/leader").await.ok()
    } else {
        None
    };
    let leader = leader.unwrap_or(Value::Null);
    Ok(Server {
        address: client.addr().to_string(),
        initialized: seal["initialized"].as_bool().unwrap_or(false),
        sealed: seal["sealed"].as_bool().unwrap_or(true),
        version: s(&seal, "version"),
        build_date: s(&seal, "commit_date").or_else(|| s(&seal, "build_date")),
        cluster_name: s(&seal, "cluster_name"),
        storage_type: s(&seal, "storage_type"),
        ha_enabled: leader["ha_enabled"].as_bool(),
        is_leader: leader["is_self"].as_bool(),
        leader_address: s(&leader, "leader_address"),
    })
}

/// The audit devices (needs `read` + `sudo` on sys/audit).
pub(crate) async fn audit_devices(client: &VaultClient) -> Result<Vec<AuditDevice>, String> {
    let v = client
        .read("sys/audit")
        .await
        .map_err(|e| not_assessed(&e))?;
    let mut out: Vec<AuditDevice> = data(&v)
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, d)| d.get("type").is_some())
                .map(|(p, d)| AuditDevice {
                    path: p.clone(),
                    kind: d["type"].as_str().unwrap_or("unknown").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The loud warning: a socket device alone makes Vault fail requests when the
/// listener stalls or dies.
pub(crate) fn audit_warning(devices: &[AuditDevice]) -> Option<String> {
    let socket = devices.iter().any(|d| d.kind == "socket");
    let file = devices.iter().any(|d| d.kind == "file");
    if devices.is_empty() {
        Some("NO AUDIT DEVICE: nothing records who read or changed what; declare a file audit device in the server config".into())
    } else if socket && !file {
        Some("A SOCKET AUDIT DEVICE HAS NO FILE DEVICE BESIDE IT: when the listener stalls or dies, Vault fails every request; declare a file audit device next to it".into())
    } else {
        None
    }
}

/// Counts the entries of a mount table (sys/auth, sys/mounts).
pub(crate) async fn mount_count(client: &VaultClient, path: &str) -> Result<usize, String> {
    let v = client.read(path).await.map_err(|e| not_assessed(&e))?;
    Ok(data(&v)
        .as_object()
        .map(|m| m.keys().filter(|k| k.ends_with('/')).count())
        .unwrap_or(0))
}

/// This token's TTL and policies (auth/token/lookup-self; only those fields are kept).
pub(crate) async fn token_info(
    client: &VaultClient,
    source: TokenSource,
) -> Result<TokenInfo, String> {
    let v = client
        .read("auth/token/lookup-self")
        .await
        .map_err(|e| not_assessed(&e))?;
    let d = data(&v);
    Ok(TokenInfo {
        source,
        display_name: s(d, "display_name"),
        ttl_seconds: d["ttl"].as_u64().unwrap_or(0),
        expire_time: s(d, "expire_time"),
        policies: d["policies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Each secret of the spec with its recorded state. While the AppRole login
/// fails, that is every secret's error: what was recorded before (e.g. a denied
/// read) describes a state that ended with the token.
pub(crate) fn secret_states(spec: &Spec) -> Vec<SecretState> {
    let login = state::load_login(&spec.state_dir).map(|l| l.describe());
    spec.secrets
        .keys()
        .map(|name| {
            let st = state::load(&spec.state_dir, name);
            SecretState {
                name: name.clone(),
                last_fetch: st.last_fetch,
                version: st.version,
                from_cache_since: st.from_cache_since,
                last_error: login.clone().or(st.last_error),
                boot_cache_since: st.boot_cache_since,
                confirmed_at: st.confirmed.as_ref().map(|c| c.at),
            }
        })
        .collect()
}

/// Each address's last state: what this command saw (which address answered
/// it) and, where newer, what the agent (`fetch`, the daemon) recorded.
pub(crate) fn address_states(
    client: &VaultClient,
    spec: &Spec,
) -> Vec<crate::vault::failover::AddressState> {
    use crate::vault::failover;
    failover::merged(
        &client.endpoints().snapshot(),
        &failover::load(&spec.state_dir),
    )
}

/// Everything `status` shows. `authed` is `Err(reason)` when no token could be had:
/// the server part is still shown.
pub(crate) async fn collect(
    client: &VaultClient,
    authed: Result<(&VaultClient, TokenSource), String>,
    spec: &Spec,
) -> Result<Status, crate::vault::VaultError> {
    let server = server(client).await?;
    let mut not_assessed = BTreeMap::new();
    let mut status = Status {
        server,
        audit_devices: None,
        audit_warning: None,
        auth_methods: None,
        secrets_engines: None,
        token: None,
        secrets: secret_states(spec),
        addresses: address_states(client, spec),
        not_assessed: BTreeMap::new(),
    };
    let fields = ["auditDevices", "authMethods", "secretsEngines", "token"];
    if status.server.sealed {
        for f in fields {
            not_assessed.insert(f.to_string(), "the server is sealed".to_string());
        }
        status.not_assessed = not_assessed;
        return Ok(status);
    }
    let (c, source) = match authed {
        Ok(a) => a,
        Err(reason) => {
            for f in fields {
                not_assessed.insert(f.to_string(), reason.clone());
            }
            status.not_assessed = not_assessed;
            return Ok(status);
        }
    };
    let (audit, auths, mounts, token) = futures::join!(
        audit_devices(c),
        mount_count(c, "sys/auth"),
        mount_count(c, "sys/mounts"),
        token_info(c, source)
    );
    match audit {
        Ok(d) => {
            status.audit_warning = audit_warning(&d);
            status.audit_devices = Some(d);
        }
        Err(r) => {
            not_assessed.insert("auditDevices".into(), r);
        }
    }
    match auths {
        Ok(n) => status.auth_methods = Some(n),
        Err(r) => {
            not_assessed.insert("authMethods".into(), r);
        }
    }
    match mounts {
        Ok(n) => status.secrets_engines = Some(n),
        Err(r) => {
            not_assessed.insert("secretsEngines".into(), r);
        }
    }
    match token {
        Ok(t) => status.token = Some(t),
        Err(r) => {
            not_assessed.insert("token".into(), r);
        }
    }
    status.not_assessed = not_assessed;
    Ok(status)
}

#[cfg(test)]
mod tests;
