//! The posture checks of who may log in and what they may do: root tokens,
//! AppRole roles, policies.

use super::finding::Finding;
use super::mount_checks::{mounts_where, ttl_of};
use super::policy;
use super::thresholds::{LONG_DEFAULT_TTL, LONG_MAX_TTL};
use crate::clock::{coarse_words, rfc3339_secs};
use crate::insights::leases::{self, TokenEntry};
use crate::insights::reads::{data, not_assessed};
use crate::vault::VaultClient;
use serde_json::Value;

/// `root_tokens` (15): no outstanding root token.
pub(super) async fn root_tokens(c: &VaultClient) -> Finding {
    let f = Finding::new("root_tokens", "No outstanding root tokens", 15);
    let tokens = match leases::list_tokens(c).await {
        Ok(t) => t,
        Err(r) => return f.not_assessed(r),
    };
    let roots: Vec<&TokenEntry> = tokens
        .tokens
        .iter()
        .filter(|t| t.policies.iter().any(|p| p == "root"))
        .collect();
    let mut evidence = vec![format!(
        "{} token(s) looked up, {} with the root policy",
        tokens.tokens.len(),
        roots.len()
    )];
    for t in &roots {
        evidence.push(format!(
            "root token {:?} (accessor {}), created {}, {}",
            t.display_name,
            t.accessor,
            rfc3339_secs(t.creation_time),
            if t.ttl_seconds == 0 {
                "never expires".to_string()
            } else {
                format!("expires in {}", coarse_words(t.ttl_seconds))
            }
        ));
    }
    f.scored(
        if roots.is_empty() { 15 } else { 0 },
        evidence,
        "revoke root tokens once the task that needed one is done (`bao token revoke -accessor ACCESSOR`); generate one only when needed with `bao operator generate-root`",
    )
}

/// `approle_roles` (10): each role has secret_id_ttl > 0, a CIDR binding and
/// token TTLs ≤ 24h / 7 days. Points: share of (role, property) pairs that are fine.
pub(super) async fn approle_roles(c: &VaultClient, auths: &Result<Value, String>) -> Finding {
    let f = Finding::new(
        "approle_roles",
        "AppRole roles: secret-id TTL, CIDR binding, token TTLs",
        10,
    );
    let auths = match auths {
        Ok(a) => a,
        Err(r) => return f.not_assessed(r.clone()),
    };
    let mounts = mounts_where(auths, |m| m["type"] == "approle");
    if mounts.is_empty() {
        return f.not_applicable("no AppRole auth method is enabled");
    }
    let mut evidence = Vec::new();
    let (mut good, mut total) = (0usize, 0usize);
    for m in &mounts {
        let roles = match c.list(&format!("auth/{m}/role")).await {
            Ok(r) => r,
            Err(e) => return f.not_assessed(not_assessed(&e)),
        };
        evidence.push(format!("auth/{m}: {} role(s)", roles.len()));
        for r in roles {
            let v = match c.read(&format!("auth/{m}/role/{r}")).await {
                Ok(v) => data(&v).clone(),
                Err(e) => return f.not_assessed(not_assessed(&e)),
            };
            let empty = |k: &str| v[k].as_array().is_none_or(|a| a.is_empty());
            let mut problems = Vec::new();
            if ttl_of(&v, "secret_id_ttl") == 0 {
                problems.push("secret_id_ttl=0 (secret-ids never expire)".to_string());
            }
            if empty("secret_id_bound_cidrs") && empty("token_bound_cidrs") {
                problems.push("no CIDR binding".to_string());
            }
            let (tt, tm) = (ttl_of(&v, "token_ttl"), ttl_of(&v, "token_max_ttl"));
            if tt > LONG_DEFAULT_TTL || tm > LONG_MAX_TTL || (tt == 0 && tm == 0) {
                let words = |t: u64| {
                    if t == 0 {
                        "system default".into()
                    } else {
                        coarse_words(t)
                    }
                };
                problems.push(format!(
                    "long token TTLs (token_ttl {}, token_max_ttl {})",
                    words(tt),
                    words(tm)
                ));
            }
            total += 3;
            good += 3 - problems.len();
            if !problems.is_empty() {
                evidence.push(format!("role {m}/{r}: {}", problems.join("; ")));
            }
        }
    }
    let points = f.fraction(good, total);
    f.scored(points, evidence, "per role: set secret_id_ttl (e.g. 720h, re-provision before it ends), bind secret_id_bound_cidrs/token_bound_cidrs to the host's address, token_ttl ≤ 1h and token_max_ttl ≤ 24h (`vaultkeeper provision --secret-id-ttl 720h --bound-cidr 10.0.0.5/32`)")
}

/// `policies` (10): no policy with a glob over every mount, write+sudo on a glob,
/// or write on all of sys/. Points: share of policies that are fine.
pub(super) async fn policies(c: &VaultClient) -> Finding {
    let f = Finding::new("policies", "No overly broad policies", 10);
    let names = match c.list("sys/policies/acl").await {
        Ok(n) => n,
        Err(e) => return f.not_assessed(not_assessed(&e)),
    };
    let names: Vec<String> = names.into_iter().filter(|n| n != "root").collect();
    let mut evidence = vec![format!(
        "{} policies read (root is built in and not counted)",
        names.len()
    )];
    let mut good = 0;
    for n in &names {
        let v = match c.read(&format!("sys/policies/acl/{n}")).await {
            Ok(v) => v,
            Err(e) => return f.not_assessed(not_assessed(&e)),
        };
        let text = data(&v)["policy"].as_str().unwrap_or_default();
        let reasons: Vec<String> = policy::rules(text)
            .iter()
            .filter_map(policy::broad)
            .collect();
        if reasons.is_empty() {
            good += 1;
        } else {
            evidence.push(format!("policy {n}: {}", reasons.join("; ")));
        }
    }
    let points = f.fraction(good, names.len());
    f.scored(points, evidence, "replace glob rules with the mounts and paths each team needs; keep sudo for named sys/ paths, read-only where possible")
}
