//! `vaultkeeper report leases`: leases by mount and TTL bucket, the longest-lived
//! leases and tokens, and tokens that never expire. Reads sys/leases/lookup
//! (LIST + sudo) and auth/token/accessors (LIST + sudo) with lookup-accessor.

use super::reads::{data, not_assessed};
use crate::clock::{coarse_words, parse_rfc3339_secs};
use crate::vault::VaultClient;
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// At most this many leases and tokens are looked up (the report says when it stopped).
pub(crate) const LIMIT: usize = 5000;
const CONCURRENCY: usize = 16;
/// How many of the longest-lived leases and tokens are listed.
pub(crate) const TOP: usize = 10;

/// TTL buckets, in this order.
pub(crate) const BUCKETS: [&str; 6] = ["<1h", "1h-24h", "1d-7d", "7d-30d", ">30d", "no expiry"];

pub(crate) fn bucket(ttl: Option<u64>) -> &'static str {
    match ttl {
        None | Some(0) => "no expiry",
        Some(t) if t < 3600 => "<1h",
        Some(t) if t < 86400 => "1h-24h",
        Some(t) if t < 7 * 86400 => "1d-7d",
        Some(t) if t < 30 * 86400 => "7d-30d",
        Some(_) => ">30d",
    }
}

/// One token, from lookup-accessor (never the token itself).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenEntry {
    pub accessor: String,
    pub display_name: String,
    pub policies: Vec<String>,
    /// The path that created it, e.g. `auth/approle/login` or `auth/token/create`.
    pub path: String,
    pub creation_time: u64,
    /// Seconds left; 0 = never expires.
    pub ttl_seconds: u64,
    pub expire_time: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct TokenList {
    pub tokens: Vec<TokenEntry>,
    /// More accessors exist than [`LIMIT`].
    pub truncated: bool,
}

/// Looks up every token accessor (up to [`LIMIT`]); `Err` says why it could not.
pub(crate) async fn list_tokens(c: &VaultClient) -> Result<TokenList, String> {
    let accessors = c
        .list("auth/token/accessors")
        .await
        .map_err(|e| not_assessed(&e))?;
    let truncated = accessors.len() > LIMIT;
    let results: Vec<Result<Option<TokenEntry>, String>> =
        futures::stream::iter(accessors.into_iter().take(LIMIT))
            .map(|a| async move {
                match c
                    .write("auth/token/lookup-accessor", &json!({ "accessor": a }))
                    .await
                {
                    Ok(v) => {
                        let d = data(&v);
                        Ok(Some(TokenEntry {
                            accessor: a,
                            display_name: d["display_name"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                            policies: d["policies"]
                                .as_array()
                                .map(|p| {
                                    p.iter()
                                        .filter_map(|x| x.as_str().map(str::to_string))
                                        .collect()
                                })
                                .unwrap_or_default(),
                            path: d["path"].as_str().unwrap_or_default().to_string(),
                            creation_time: d["creation_time"].as_u64().unwrap_or(0),
                            ttl_seconds: d["ttl"].as_u64().unwrap_or(0),
                            expire_time: d["expire_time"].as_str().map(str::to_string),
                            kind: d["type"].as_str().unwrap_or("service").to_string(),
                        }))
                    }
                    // Expired or revoked between the list and the lookup.
                    Err(crate::vault::VaultError::BadRequest { .. })
                    | Err(crate::vault::VaultError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(not_assessed(&e)),
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let mut tokens = Vec::new();
    for r in results {
        if let Some(t) = r? {
            tokens.push(t);
        }
    }
    tokens.sort_by(|a, b| {
        a.creation_time
            .cmp(&b.creation_time)
            .then(a.accessor.cmp(&b.accessor))
    });
    Ok(TokenList { tokens, truncated })
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Lease {
    pub id: String,
    pub mount: String,
    pub ttl_seconds: u64,
    pub expire_time: Option<String>,
    pub issue_time: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LeaseReport {
    pub total_leases: Option<usize>,
    /// mount → bucket → count (every bucket present).
    pub by_mount: BTreeMap<String, BTreeMap<String, usize>>,
    pub by_bucket: BTreeMap<String, usize>,
    pub longest_leases: Vec<Lease>,
    pub total_tokens: Option<usize>,
    pub longest_tokens: Vec<TokenEntry>,
    pub tokens_without_expiry: Vec<TokenEntry>,
    pub truncated: bool,
    pub headline: String,
    pub not_assessed: BTreeMap<String, String>,
}

/// Every lease id below `sys/leases/lookup/` (depth-first, up to [`LIMIT`]).
pub(crate) async fn list_lease_ids(c: &VaultClient) -> Result<(Vec<String>, bool), String> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(prefix) = stack.pop() {
        let keys = c
            .list(&format!("sys/leases/lookup/{prefix}"))
            .await
            .map_err(|e| not_assessed(&e))?;
        for k in keys {
            if k.ends_with('/') {
                stack.push(format!("{prefix}{k}"));
            } else {
                out.push(format!("{prefix}{k}"));
                if out.len() >= LIMIT {
                    return Ok((out, true));
                }
            }
        }
    }
    out.sort();
    Ok((out, false))
}

/// The mount a lease belongs to: the longest mount path that prefixes it.
pub(crate) fn mount_of(id: &str, mounts: &[String]) -> String {
    mounts
        .iter()
        .filter(|m| id.starts_with(m.as_str()))
        .max_by_key(|m| m.len())
        .cloned()
        .unwrap_or_else(|| {
            let mut segs = id.split('/');
            match segs.next() {
                Some("auth") => format!("auth/{}/", segs.next().unwrap_or_default()),
                Some(s) => format!("{s}/"),
                None => "/".into(),
            }
        })
}

/// Mount paths from sys/mounts and sys/auth (`auth/` prefixed); empty when unreadable.
pub(crate) async fn mount_paths(c: &VaultClient) -> Vec<String> {
    let mut out = Vec::new();
    for (table, prefix) in [("sys/mounts", ""), ("sys/auth", "auth/")] {
        if let Ok(v) = c.read(table).await {
            out.extend(
                data(&v)
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.ends_with('/'))
                    .map(|(k, _)| format!("{prefix}{k}")),
            );
        }
    }
    out
}

pub(crate) async fn collect(c: &VaultClient) -> LeaseReport {
    let mut not_assessed_map = BTreeMap::new();
    let mounts = mount_paths(c).await;
    let mut truncated = false;
    let mut by_mount: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut by_bucket: BTreeMap<String, usize> =
        BUCKETS.iter().map(|b| (b.to_string(), 0)).collect();
    let mut leases = Vec::new();
    let total_leases = match list_lease_ids(c).await {
        Err(r) => {
            not_assessed_map.insert("leases".into(), r);
            None
        }
        Ok((ids, t)) => {
            truncated |= t;
            let found: Vec<Option<Lease>> = futures::stream::iter(ids)
                .map(|id| {
                    let mounts = &mounts;
                    async move {
                        let v = c
                            .write("sys/leases/lookup", &json!({ "lease_id": id }))
                            .await
                            .ok()?;
                        let d = data(&v);
                        Some(Lease {
                            mount: mount_of(&id, mounts),
                            ttl_seconds: d["ttl"].as_u64().unwrap_or(0),
                            expire_time: d["expire_time"].as_str().map(str::to_string),
                            issue_time: d["issue_time"].as_str().map(str::to_string),
                            id,
                        })
                    }
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            leases = found.into_iter().flatten().collect();
            for l in &leases {
                let b = bucket(if l.expire_time.is_none() {
                    None
                } else {
                    Some(l.ttl_seconds)
                });
                *by_bucket.entry(b.into()).or_default() += 1;
                let m = by_mount
                    .entry(l.mount.clone())
                    .or_insert_with(|| BUCKETS.iter().map(|b| (b.to_string(), 0)).collect());
                *m.entry(b.into()).or_default() += 1;
            }
            Some(leases.len())
        }
    };
    // Longest first; never-expiring leases first of all.
    let key = |ttl: u64, expires: bool| if expires { ttl } else { u64::MAX };
    leases.sort_by(|a, b| {
        key(b.ttl_seconds, b.expire_time.is_some())
            .cmp(&key(a.ttl_seconds, a.expire_time.is_some()))
            .then(a.id.cmp(&b.id))
    });
    leases.truncate(TOP);
    let (total_tokens, longest_tokens, without) = match list_tokens(c).await {
        Err(r) => {
            not_assessed_map.insert("tokens".into(), r);
            (None, Vec::new(), Vec::new())
        }
        Ok(list) => {
            truncated |= list.truncated;
            let without: Vec<TokenEntry> = list
                .tokens
                .iter()
                .filter(|t| t.expire_time.is_none())
                .cloned()
                .collect();
            let mut expiring: Vec<TokenEntry> = list
                .tokens
                .iter()
                .filter(|t| t.expire_time.is_some())
                .cloned()
                .collect();
            expiring.sort_by(|a, b| {
                b.ttl_seconds
                    .cmp(&a.ttl_seconds)
                    .then(a.accessor.cmp(&b.accessor))
            });
            expiring.truncate(TOP);
            (Some(list.tokens.len()), expiring, without)
        }
    };
    let mut report = LeaseReport {
        total_leases,
        by_mount,
        by_bucket,
        longest_leases: leases,
        total_tokens,
        longest_tokens,
        tokens_without_expiry: without,
        truncated,
        headline: String::new(),
        not_assessed: not_assessed_map,
    };
    report.headline = headline(&report);
    report
}

/// One line for the digest: "12 leases (3 over 30 days), 7 tokens (2 without expiry)".
pub(crate) fn headline(r: &LeaseReport) -> String {
    let leases = match r.total_leases {
        Some(n) => {
            let long = r.by_bucket.get(">30d").copied().unwrap_or(0)
                + r.by_bucket.get("no expiry").copied().unwrap_or(0);
            format!("{n} leases ({long} over 30 days or without expiry)")
        }
        None => "leases not assessed".into(),
    };
    let tokens = match r.total_tokens {
        Some(n) => format!(
            "{n} tokens ({} without expiry)",
            r.tokens_without_expiry.len()
        ),
        None => "tokens not assessed".into(),
    };
    format!("{leases}, {tokens}")
}

/// "in 3d 4h" or "never".
pub(crate) fn expiry_words(ttl: u64, expire_time: Option<&str>) -> String {
    match expire_time.and_then(parse_rfc3339_secs) {
        None if ttl == 0 => "never expires".into(),
        _ => format!("expires in {}", coarse_words(ttl)),
    }
}

#[cfg(test)]
mod tests;
