//! Small per-secret status records in `<stateDir>/status/<name>.json`: when the
//! secret was last fetched from Vault and since when it is served from the cache.
//! `vaultkeeper status` and the daemon read them. They hold no secret values.

use crate::fs::{self, Durability};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::UNIX_EPOCH;

/// A secret's record under `<stateDir>/status/<name>.json`: what `status`, the
/// daemon and the boot cache know of its last fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretRecord {
    /// Unix seconds of the last successful fetch from Vault.
    pub last_fetch: Option<u64>,
    /// KV v2 version of that fetch.
    pub version: Option<u64>,
    /// Unix seconds since when the secret is served from the cache; `None` when fresh.
    pub from_cache_since: Option<u64>,
    /// The last error, if the last attempt failed (never a secret value).
    pub last_error: Option<String>,
    /// When Vault last confirmed the cached data (a full read, or a metadata
    /// check that found the cached version current), and which cache that was:
    /// what `fetch` needs to render from the cache at boot without Vault
    /// ([`crate::boot_cache`]).
    #[serde(default)]
    pub confirmed: Option<Confirmation>,
    /// Unix seconds since when the files are the cache `fetch` rendered at boot
    /// without contacting Vault; `None` once the daemon has checked with Vault.
    #[serde(default)]
    pub boot_cache_since: Option<u64>,
}

/// Vault's last confirmation of a secret's cache. It names the cache it
/// confirmed (KV mount, path, version and the cache file's `fetchedAt`), so a
/// record cannot vouch for a cache file that was replaced or for another path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// Unix seconds of the confirmation.
    pub at: u64,
    pub kv_mount: String,
    pub secret_path: String,
    /// 1 or 2.
    pub kv_version: u8,
    /// The KV v2 version confirmed.
    pub version: Option<u64>,
    /// `fetchedAt` of the cache file confirmed (unix seconds).
    pub cache_fetched_at: u64,
}

pub(crate) fn load(state_dir: &Path, name: &str) -> SecretRecord {
    fs::load_record(&state_dir.join("status"), &format!("{name}.json")).unwrap_or_default()
}

/// Best effort and not fsynced (the next run rewrites it): a status file that
/// cannot be written is logged, never fatal.
pub fn save(state_dir: &Path, name: &str, status: &SecretRecord) {
    let dir = state_dir.join("status");
    let file = format!("{name}.json");
    let result = fs::save_record(state_dir, &dir, &file, status, Durability::Volatile);
    if let Err(e) = result {
        tracing::warn!(secret = name, error = %e, "cannot record the secret's status");
    }
}

/// `<stateDir>/login-status.json`: since when the AppRole login fails and Vault's
/// last reason; absent while logins work. Written by `fetch` and the daemon,
/// shown by `status` (and the daemon's STATUS= line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoginStatus {
    /// Unix seconds of the first rejection of the current streak.
    pub failing_since: u64,
    pub reason: String,
}

impl LoginStatus {
    /// "login failing since 2026-11-30T10:00:00Z: invalid role or secret ID"
    pub(crate) fn describe(&self) -> String {
        let at = UNIX_EPOCH + std::time::Duration::from_secs(self.failing_since);
        format!(
            "login failing since {}: {}",
            crate::clock::rfc3339(at),
            self.reason
        )
    }
}

const LOGIN_FILE: &str = "login-status.json";

pub(crate) fn load_login(state_dir: &Path) -> Option<LoginStatus> {
    fs::load_record(state_dir, LOGIN_FILE)
}

/// A rejected login: keeps the streak's start when one is recorded.
pub(crate) fn login_rejected(state_dir: &Path, reason: &str) {
    let since = load_login(state_dir).map_or_else(crate::clock::now_unix, |l| l.failing_since);
    let st = LoginStatus {
        failing_since: since,
        reason: reason.to_string(),
    };
    let result = fs::save_record(state_dir, state_dir, LOGIN_FILE, &st, Durability::Volatile);
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot record the login status");
    }
}

/// A login worked: the failure record, if any, goes.
pub(crate) fn login_ok(state_dir: &Path) {
    match std::fs::remove_file(state_dir.join(LOGIN_FILE)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(error = %e, "cannot clear the login status"),
    }
}

/// Removes status temporaries of `name` whose writer died (status records are
/// written outside the secret's lock, so a live writer's are left alone).
pub(crate) fn clean_debris(state_dir: &Path, name: &str) -> usize {
    let dir = state_dir.join("status");
    let Ok(fd) = fs::open_dir_nofollow(&dir) else {
        return 0;
    };
    crate::render::debris::remove_temporaries(&fd, &dir, &[format!(".{name}.json.tmp-")], false)
}
