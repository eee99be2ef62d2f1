//! `vaultkeeper report usage`: entities, tokens, secrets per KV mount, auth
//! methods in use, requests by type from the audit listener's counters
//! (`<stateDir>/audit/stats.json`, written by the audit listener), and auth
//! method suggestions, each with the evidence behind it.

use super::leases::{self, TokenEntry};
use super::reads::{data, list_full, not_assessed};
use crate::vault::VaultClient;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Keys listed per mount at most.
pub(crate) const KEY_LIMIT: usize = 10_000;
/// A token living longer than this (or forever), made with auth/token/create, is "static".
pub(crate) const STATIC_TOKEN_TTL: u64 = 7 * 86400;

/// The audit listener's counters, as its `StatsSnapshot` writes them (snake_case).
/// Unknown keys are ignored so the two can evolve separately.
pub(crate) use crate::audit::stats::StatsSnapshot as AuditStats;

/// `Ok(None)` when the file does not exist (the listener is not running).
pub(crate) fn read_audit_stats(state_dir: &Path) -> Result<Option<AuditStats>, String> {
    AuditStats::read(state_dir)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthMethod {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Live tokens created through it (null when tokens could not be read).
    pub tokens: Option<usize>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Suggestion {
    pub id: &'static str,
    pub text: String,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageReport {
    pub entities: Option<usize>,
    pub tokens: Option<usize>,
    /// token path (e.g. `auth/approle/login`) → live tokens.
    pub tokens_by_path: BTreeMap<String, usize>,
    /// KV mount → number of secrets (keys, recursively).
    pub secrets_by_mount: BTreeMap<String, usize>,
    pub auth_methods: Vec<AuthMethod>,
    /// The audit listener's counters; null when it is not running.
    pub audit: Option<AuditStats>,
    /// "running" or "audit listener not running" or why the file is unusable.
    pub audit_listener: String,
    pub suggestions: Vec<Suggestion>,
    pub not_assessed: BTreeMap<String, String>,
}

/// Counts keys below a KV mount: v2 lists `<mount>/metadata/`, v1 `<mount>/`.
pub(crate) async fn count_keys(c: &VaultClient, base: &str) -> Result<usize, String> {
    let mut n = 0;
    let mut stack = vec![String::new()];
    while let Some(prefix) = stack.pop() {
        for k in c
            .list(&format!("{base}{prefix}"))
            .await
            .map_err(|e| not_assessed(&e))?
        {
            if k.ends_with('/') {
                stack.push(format!("{prefix}{k}"));
            } else {
                n += 1;
                if n >= KEY_LIMIT {
                    return Ok(n);
                }
            }
        }
    }
    Ok(n)
}

/// `auth/approle/login` → `approle/`; `auth/token/create` → `token/`.
pub(crate) fn auth_mount_of_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("auth/")?;
    let mount = rest.split('/').next()?;
    Some(format!("{mount}/"))
}

pub(crate) async fn collect(c: &VaultClient, state_dir: &Path) -> UsageReport {
    let mut na = BTreeMap::new();
    let entities = match list_full(c, "identity/entity/id").await {
        Ok(v) => Some(v.map_or(0, |v| data(&v)["keys"].as_array().map_or(0, |a| a.len()))),
        Err(e) => {
            na.insert("entities".to_string(), not_assessed(&e));
            None
        }
    };
    let tokens = match leases::list_tokens(c).await {
        Ok(t) => Some(t.tokens),
        Err(r) => {
            na.insert("tokens".into(), r);
            None
        }
    };
    let mut tokens_by_path = BTreeMap::new();
    for t in tokens.iter().flatten() {
        *tokens_by_path.entry(t.path.clone()).or_insert(0) += 1;
    }
    let mut secrets_by_mount = BTreeMap::new();
    match c.read("sys/mounts").await {
        Ok(v) => {
            for (path, m) in data(&v).as_object().into_iter().flatten() {
                if m["type"] != "kv" {
                    continue;
                }
                let base = if m["options"]["version"] == "2" {
                    format!("{path}metadata/")
                } else {
                    path.clone()
                };
                match count_keys(c, &base).await {
                    Ok(n) => {
                        secrets_by_mount.insert(path.clone(), n);
                    }
                    Err(r) => {
                        na.insert(format!("secretsByMount.{path}"), r);
                    }
                }
            }
        }
        Err(e) => {
            na.insert("secretsByMount".into(), not_assessed(&e));
        }
    }
    let mut auth_methods = Vec::new();
    let mut mfa_enforced = None;
    match c.read("sys/auth").await {
        Ok(v) => {
            for (path, m) in data(&v).as_object().into_iter().flatten() {
                if !path.ends_with('/') {
                    continue;
                }
                auth_methods.push(AuthMethod {
                    path: path.clone(),
                    kind: m["type"].as_str().unwrap_or("unknown").to_string(),
                    tokens: tokens.as_ref().map(|ts| {
                        ts.iter()
                            .filter(|t| {
                                auth_mount_of_path(&t.path).as_deref() == Some(path.as_str())
                            })
                            .count()
                    }),
                });
            }
            if auth_methods
                .iter()
                .any(|a| matches!(a.kind.as_str(), "userpass" | "ldap"))
            {
                mfa_enforced = match list_full(c, "identity/mfa/login-enforcement").await {
                    Ok(v) => Some(v.is_some_and(|v| {
                        data(&v)["keys"].as_array().is_some_and(|a| !a.is_empty())
                    })),
                    Err(e) => {
                        na.insert("mfa".into(), not_assessed(&e));
                        None
                    }
                };
            }
        }
        Err(e) => {
            na.insert("authMethods".into(), not_assessed(&e));
        }
    }
    let (audit, audit_listener) = match read_audit_stats(state_dir) {
        Ok(Some(s)) => (Some(s), "running".to_string()),
        Ok(None) => (None, "audit listener not running".to_string()),
        Err(r) => (None, r),
    };
    let suggestions = suggest(
        tokens.as_deref(),
        &auth_methods,
        mfa_enforced,
        audit.as_ref(),
    );
    UsageReport {
        entities,
        tokens: tokens.as_ref().map(Vec::len),
        tokens_by_path,
        secrets_by_mount,
        auth_methods,
        audit,
        audit_listener,
        suggestions,
        not_assessed: na,
    }
}

/// Auth method suggestions, each justified by what was seen.
pub(crate) fn suggest(
    tokens: Option<&[TokenEntry]>,
    auths: &[AuthMethod],
    mfa_enforced: Option<bool>,
    audit: Option<&AuditStats>,
) -> Vec<Suggestion> {
    let mut out = Vec::new();
    if let Some(ts) = tokens {
        let statics: Vec<&TokenEntry> = ts
            .iter()
            .filter(|t| t.path == "auth/token/create" && !t.policies.iter().any(|p| p == "root"))
            .filter(|t| t.ttl_seconds == 0 || t.ttl_seconds > STATIC_TOKEN_TTL)
            .collect();
        if !statics.is_empty() {
            let mut evidence: Vec<String> = statics
                .iter()
                .take(10)
                .map(|t| {
                    format!(
                        "token {:?} (accessor {}, policies {}) {}",
                        t.display_name,
                        t.accessor,
                        t.policies.join(","),
                        leases::expiry_words(t.ttl_seconds, t.expire_time.as_deref())
                    )
                })
                .collect();
            if statics.len() > 10 {
                evidence.push(format!("and {} more", statics.len() - 10));
            }
            out.push(Suggestion {
                id: "static_tokens",
                text: format!("{} long-lived token(s) made with auth/token/create: machines should log in with AppRole (`vaultkeeper provision --host NAME`) so their credentials expire and can be bound to an address", statics.len()),
                evidence,
            });
        }
    }
    for a in auths
        .iter()
        .filter(|a| matches!(a.kind.as_str(), "userpass" | "ldap"))
    {
        if mfa_enforced == Some(false) {
            out.push(Suggestion {
                id: "userpass_without_mfa",
                text: format!("{} ({}) logs people in with a password alone: add a login MFA enforcement (identity/mfa/login-enforcement) or move people to OIDC", a.path, a.kind),
                evidence: vec![format!("{} is enabled{}; identity/mfa/login-enforcement lists no enforcement", a.path, a.tokens.map(|n| format!(" with {n} live token(s)")).unwrap_or_default())],
            });
        }
    }
    for a in auths.iter().filter(|a| a.kind != "token") {
        let logins = audit.map(|s| {
            s.requests_by_path_prefix
                .get(&format!("auth/{}", a.path.trim_end_matches('/')))
                .copied()
                .unwrap_or(0)
        });
        if a.tokens == Some(0) && logins.unwrap_or(0) == 0 {
            let mut evidence = vec![format!("{} has no live token", a.path)];
            if let Some(s) = audit {
                evidence.push(format!(
                    "no request under auth/{} in the audit counters since {}",
                    a.path.trim_end_matches('/'),
                    if s.time.is_empty() {
                        "the listener started"
                    } else {
                        &s.time
                    }
                ));
            }
            out.push(Suggestion {
                id: "unused_auth_method",
                text: format!("{} ({}) looks unused: disable it (`bao auth disable {}`) to shrink what can be attacked", a.path, a.kind, a.path.trim_end_matches('/')),
                evidence,
            });
        }
    }
    if let Some(s) = audit {
        let root = s.requests_by_auth_method.get("root").copied().unwrap_or(0);
        if root > 0 {
            out.push(Suggestion {
                id: "root_token_in_use",
                text: "requests are made with a root token: give operators a named admin policy through OIDC or userpass+MFA, and keep root for break-glass".into(),
                evidence: vec![format!("{root} request(s) by display name \"root\" in the audit counters since {}", s.time)],
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
