//! The posture checks of the secrets engines: lease TTLs of the mounts and
//! the versions KV v2 keeps.

use super::finding::Finding;
use super::thresholds::{LONG_DEFAULT_TTL, LONG_MAX_TTL, MAX_KV_VERSIONS};
use crate::clock::coarse_words;
use crate::insights::reads::{data, not_assessed};
use crate::vault::VaultClient;
use serde_json::Value;

pub(super) fn ttl_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

/// `lease_ttls` (10): the token store's default TTL ≤ 24h and max TTL ≤ 7 days;
/// mounts tuned above 7 days are listed.
pub(super) async fn lease_ttls(c: &VaultClient, mounts: &Result<Value, String>) -> Finding {
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
        coarse_words(def),
        coarse_words(max)
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
                    coarse_words(mt)
                ));
                points = points.saturating_sub(1);
            }
        }
    }
    f.scored(points, evidence, "tune the token store and the system: `bao auth tune -default-lease-ttl=1h -max-lease-ttl=168h token/` (and the same with `bao secrets tune` for long-lived engines); the defaults are 768h (32 days)")
}

/// The paths (without the trailing `/`) of the entries of a mount table
/// (sys/auth, sys/mounts) that `keep` accepts.
pub(super) fn mounts_where(table: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    table
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, m)| keep(m))
        .map(|(p, _)| p.trim_end_matches('/').to_string())
        .collect()
}

/// `kv_max_versions` (5): every KV v2 mount keeps at most 20 versions (0 = 10).
pub(super) async fn kv_versions(c: &VaultClient, mounts: &Result<Value, String>) -> Finding {
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
