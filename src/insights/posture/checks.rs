//! The posture checks. Each reads what it needs, never writes, and turns a
//! denied read into "not assessed".

use super::{policy, tls, Finding};
use crate::insights::leases::{self, TokenEntry};
use crate::insights::reads::{data, not_assessed};
use crate::insights::status::{self, Server};
use crate::insights::time::{human_secs, parse_time, rfc3339};
use crate::vault::VaultClient;
use serde_json::Value;
use std::time::Duration;

const DAY: u64 = 86400;
/// Token TTLs above these are "long".
pub const LONG_DEFAULT_TTL: u64 = DAY;
pub const LONG_MAX_TTL: u64 = 7 * DAY;
/// KV v2 keeps at most this many versions before it counts as hoarding old secrets.
pub const MAX_KV_VERSIONS: u64 = 20;
/// Certificates closer than this to expiry lose points.
pub const CERT_WARN_DAYS: i64 = 30;
/// Server builds older than these lose half, then all points.
pub const VERSION_WARN_DAYS: u64 = 180;
pub const VERSION_FAIL_DAYS: u64 = 365;

pub struct Ctx<'a> {
    pub client: &'a VaultClient,
    pub server: &'a Server,
    pub timeout: Duration,
    pub now: u64,
}

/// Runs every check (concurrently) in a fixed order.
pub async fn run_all(ctx: &Ctx<'_>) -> Vec<Finding> {
    let c = ctx.client;
    let (auths, mounts) = futures::join!(c.read("sys/auth"), c.read("sys/mounts"));
    let auths = auths
        .map(|v| data(&v).clone())
        .map_err(|e| not_assessed(&e));
    let mounts = mounts
        .map(|v| data(&v).clone())
        .map_err(|e| not_assessed(&e));
    let (audit, tls, roots, ttls, approle, kv, pol, ha) = futures::join!(
        audit(c),
        tls_checks(ctx),
        root_tokens(c),
        lease_ttls(c, &mounts),
        approle_roles(c, &auths),
        kv_versions(c, &mounts),
        policies(c),
        ha(c, ctx.server),
    );
    let mut out = Vec::new();
    out.extend(audit);
    out.extend(tls);
    out.push(roots);
    out.push(ttls);
    out.push(approle);
    out.push(kv);
    out.push(pol);
    out.push(ha);
    out.push(version_age(ctx.server, ctx.now));
    out
}

/// `audit_devices` (15): at least one; `audit_redundancy` (5): more than one, and
/// a file device beside any socket device.
pub async fn audit(c: &VaultClient) -> [Finding; 2] {
    let one = Finding::new("audit_devices", "At least one audit device", 15);
    let two = Finding::new(
        "audit_redundancy",
        "More than one audit device, a file device beside any socket",
        5,
    );
    let devices = match status::audit_devices(c).await {
        Ok(d) => d,
        Err(r) => return [one.not_assessed(r.clone()), two.not_assessed(r)],
    };
    let list: Vec<String> = devices
        .iter()
        .map(|d| format!("{} ({})", d.path, d.kind))
        .collect();
    let seen = if list.is_empty() {
        "no audit device is enabled".to_string()
    } else {
        format!("{} audit device(s): {}", list.len(), list.join(", "))
    };
    let one = one.scored(
        if devices.is_empty() { 0 } else { 15 },
        vec![seen.clone()],
        "declare a file audit device in the server config: audit \"file\" \"local\" { options = { file_path = \"/var/log/openbao/audit.log\" } }, then restart",
    );
    let socket = devices.iter().any(|d| d.kind == "socket");
    let file = devices.iter().any(|d| d.kind == "file");
    let mut evidence = vec![seen];
    let points = if socket && !file {
        evidence.push("a socket device has no file device beside it: a stalled listener makes the server fail requests".into());
        0
    } else if devices.len() >= 2 {
        5
    } else {
        0
    };
    [one, two.scored(points, evidence, "declare a second audit device (e.g. a file device next to the socket device) so one failing device does not block requests or lose the trail")]
}

/// `tls` (15): the configured address uses https; `tls_certificate_expiry` (5): days left.
pub async fn tls_checks(ctx: &Ctx<'_>) -> [Finding; 2] {
    let tls = Finding::new("tls", "TLS on the listener", 15);
    let exp = Finding::new("tls_certificate_expiry", "Days to certificate expiry", 5);
    let url = match reqwest::Url::parse(&ctx.server.address) {
        Ok(u) => u,
        Err(e) => {
            return [
                tls.not_assessed(format!("{} is not a URL: {e}", ctx.server.address)),
                exp.not_assessed("no URL"),
            ]
        }
    };
    if url.scheme() != "https" {
        return [
            tls.scored(0, vec![format!("the configured address {} is plain HTTP: tokens and secrets cross the network unencrypted", ctx.server.address)],
                "give the listener tls_cert_file and tls_key_file (remove tls_disable) and use an https:// address in vault.address"),
            exp.not_applicable("no TLS, so no certificate"),
        ];
    }
    let tls = tls.scored(
        15,
        vec![format!(
            "the configured address {} uses https",
            ctx.server.address
        )],
        "",
    );
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let timeout = ctx.timeout;
    let leaf = tokio::task::spawn_blocking(move || tls::leaf_certificate(&host, port, timeout))
        .await
        .unwrap_or_else(|e| Err(format!("the TLS probe panicked: {e}")));
    let exp = match leaf {
        Err(r) => exp.not_assessed(r),
        Ok(leaf) => {
            let days = (leaf.not_after - ctx.now as i64).div_euclid(DAY as i64);
            let seen = vec![format!(
                "certificate {} expires {} ({} days from now)",
                leaf.subject,
                rfc3339(leaf.not_after.max(0) as u64),
                days
            )];
            let points = if days < 7 {
                0
            } else if days < CERT_WARN_DAYS {
                2
            } else {
                5
            };
            exp.scored(points, seen, "renew the listener certificate (tls_cert_file) and reload the server (SIGHUP) before it expires")
        }
    };
    [tls, exp]
}

/// `root_tokens` (15): no outstanding root token.
pub async fn root_tokens(c: &VaultClient) -> Finding {
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
            rfc3339(t.creation_time),
            if t.ttl_seconds == 0 {
                "never expires".to_string()
            } else {
                format!("expires in {}", human_secs(t.ttl_seconds))
            }
        ));
    }
    f.scored(
        if roots.is_empty() { 15 } else { 0 },
        evidence,
        "revoke root tokens once the task that needed one is done (`bao token revoke -accessor ACCESSOR`); generate one only when needed with `bao operator generate-root`",
    )
}

fn ttl_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

/// `lease_ttls` (10): the token store's default TTL ≤ 24h and max TTL ≤ 7 days;
/// mounts tuned above 7 days are listed.
pub async fn lease_ttls(c: &VaultClient, mounts: &Result<Value, String>) -> Finding {
    let f = Finding::new("lease_ttls", "Default and max lease TTLs", 10);
    let tune = match c.read("sys/auth/token/tune").await {
        Ok(v) => data(&v).clone(),
        Err(e) => return f.not_assessed(not_assessed(&e)),
    };
    let (def, max) = (
        ttl_of(&tune, "default_lease_ttl"),
        ttl_of(&tune, "max_lease_ttl"),
    );
    let mut evidence = vec![format!(
        "token store: default_lease_ttl {}, max_lease_ttl {}",
        human_secs(def),
        human_secs(max)
    )];
    let mut points: u32 = 0;
    if def <= LONG_DEFAULT_TTL {
        points += 5;
    }
    if max <= LONG_MAX_TTL {
        points += 5;
    }
    if let Ok(m) = mounts {
        for (path, mount) in m.as_object().into_iter().flatten() {
            let mt = ttl_of(&mount["config"], "max_lease_ttl");
            if mt > LONG_MAX_TTL {
                evidence.push(format!(
                    "secrets engine {path} is tuned to max_lease_ttl {}",
                    human_secs(mt)
                ));
                points = points.saturating_sub(1);
            }
        }
    }
    f.scored(points, evidence, "tune the token store and the system: `bao auth tune -default-lease-ttl=1h -max-lease-ttl=168h token/` (and the same with `bao secrets tune` for long-lived engines); the defaults are 768h (32 days)")
}

/// The paths (without the trailing `/`) of the entries of a mount table
/// (sys/auth, sys/mounts) that `keep` accepts.
fn mounts_where(table: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    table
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, m)| keep(m))
        .map(|(p, _)| p.trim_end_matches('/').to_string())
        .collect()
}

/// `approle_roles` (10): each role has secret_id_ttl > 0, a CIDR binding and
/// token TTLs ≤ 24h / 7 days. Points: share of (role, property) pairs that are fine.
pub async fn approle_roles(c: &VaultClient, auths: &Result<Value, String>) -> Finding {
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
                        human_secs(t)
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

/// `kv_max_versions` (5): every KV v2 mount keeps at most 20 versions (0 = 10).
pub async fn kv_versions(c: &VaultClient, mounts: &Result<Value, String>) -> Finding {
    let f = Finding::new("kv_max_versions", "KV v2 max_versions", 5);
    let mounts = match mounts {
        Ok(m) => m,
        Err(r) => return f.not_assessed(r.clone()),
    };
    let kv2 = mounts_where(mounts, |m| {
        m["type"] == "kv" && m["options"]["version"] == "2"
    });
    if kv2.is_empty() {
        return f.not_applicable("no KV v2 secrets engine is mounted");
    }
    let mut evidence = Vec::new();
    let mut good = 0;
    for m in &kv2 {
        let v = match c.read(&format!("{m}/config")).await {
            Ok(v) => data(&v).clone(),
            Err(e) => return f.not_assessed(not_assessed(&e)),
        };
        let max = ttl_of(&v, "max_versions");
        let effective = if max == 0 { 10 } else { max };
        if effective <= MAX_KV_VERSIONS {
            good += 1;
            evidence.push(format!("{m}/: max_versions {max} (keeps {effective})"));
        } else {
            evidence.push(format!("{m}/: max_versions {max}: old, possibly leaked secret values stay readable for {effective} versions"));
        }
    }
    let points = f.fraction(good, kv2.len());
    f.scored(points, evidence, format!("lower the history: `bao write MOUNT/config max_versions=10` (at most {MAX_KV_VERSIONS})"))
}

/// `policies` (10): no policy with a glob over every mount, write+sudo on a glob,
/// or write on all of sys/. Points: share of policies that are fine.
pub async fn policies(c: &VaultClient) -> Finding {
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

/// `ha` (5): HA storage with at least two nodes (half for HA with one node).
pub async fn ha(c: &VaultClient, server: &Server) -> Finding {
    let f = Finding::new("ha", "High availability", 5);
    let Some(enabled) = server.ha_enabled else {
        return f.not_assessed("sys/leader did not answer");
    };
    if !enabled {
        return f.scored(0, vec![format!("HA is not enabled (storage {})", server.storage_type.as_deref().unwrap_or("unknown"))],
            "use integrated storage (raft) with three or five nodes so one failing node does not stop every secret fetch");
    }
    match c.read("sys/ha-status").await {
        Ok(v) => {
            let nodes = data(&v)["nodes"].as_array().map_or(0, |a| a.len());
            f.scored(
                if nodes >= 2 { 5 } else { 2 },
                vec![format!("HA enabled, {nodes} node(s) in the cluster")],
                "join more nodes (`bao operator raft join`): with one node, HA does not help",
            )
        }
        Err(e) => f.not_assessed(format!(
            "HA is enabled but the node count is unknown: {}",
            not_assessed(&e)
        )),
    }
}

/// `version_age` (5): the server build is younger than 180 days (half up to 365).
pub fn version_age(server: &Server, now: u64) -> Finding {
    let f = Finding::new("version_age", "Age of the server version", 5);
    let Some(date) = server.build_date.as_deref() else {
        return f.not_assessed("the server reports no build date");
    };
    let Some(built) = parse_time(date) else {
        return f.not_assessed(format!("the build date {date:?} does not parse"));
    };
    let days = now.saturating_sub(built) / DAY;
    let points = if days < VERSION_WARN_DAYS {
        5
    } else if days < VERSION_FAIL_DAYS {
        2
    } else {
        0
    };
    f.scored(
        points,
        vec![format!(
            "version {} built {date} ({days} days ago)",
            server.version.as_deref().unwrap_or("unknown")
        )],
        "upgrade the server; `vaultkeeper version-check` lists the newer releases",
    )
}

#[cfg(test)]
mod tests;
