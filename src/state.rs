//! Small per-secret status records in `<stateDir>/status/<name>.json`: when the
//! secret was last fetched from Vault and since when it is served from the cache.
//! `vaultkeeper status` and the daemon read them. They hold no secret values.

use crate::render::atomic;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretStatus {
    /// Unix seconds of the last successful fetch from Vault.
    pub last_fetch: Option<u64>,
    /// KV v2 version of that fetch.
    pub version: Option<u64>,
    /// Unix seconds since when the secret is served from the cache; `None` when fresh.
    pub from_cache_since: Option<u64>,
    /// The last error, if the last attempt failed (never a secret value).
    pub last_error: Option<String>,
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn load(state_dir: &Path, name: &str) -> SecretStatus {
    let dir = state_dir.join("status");
    let Ok(fd) = atomic::open_dir_nofollow(&dir) else {
        return SecretStatus::default();
    };
    match atomic::read_file_at(&fd, &format!("{name}.json"), &dir) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
        _ => SecretStatus::default(),
    }
}

/// Best effort and not fsynced (the next run rewrites it): a status file that
/// cannot be written is logged, never fatal.
pub fn save(state_dir: &Path, name: &str, status: &SecretStatus) {
    let dir = state_dir.join("status");
    let result = atomic::ensure_private_dir(state_dir, 0o700)
        .and_then(|_| atomic::ensure_private_dir(&dir, 0o700))
        .and_then(|fd| {
            let bytes = serde_json::to_vec(status).expect("status serializes");
            atomic::replace_file_with(
                &fd,
                &format!("{name}.json"),
                &bytes,
                0o600,
                &dir,
                atomic::Durability::Volatile,
            )
        });
    if let Err(e) = result {
        tracing::warn!(secret = name, error = %e, "cannot record the secret's status");
    }
}

/// Removes status temporaries of `name` whose writer died (status records are
/// written outside the secret's lock, so a live writer's are left alone).
pub fn clean_debris(state_dir: &Path, name: &str) -> usize {
    let dir = state_dir.join("status");
    let Ok(fd) = atomic::open_dir_nofollow(&dir) else {
        return 0;
    };
    crate::render::debris::remove_temporaries(&fd, &dir, &[format!(".{name}.json.tmp-")], false)
}
