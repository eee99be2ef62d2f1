//! Boot from a recently confirmed cache (`bootCacheMaxAge`).
//!
//! At boot every secret's `vault-secret-<name>` unit runs `vaultkeeper fetch
//! NAME`. When a whole fleet reboots at once, those reads (a login and a full
//! read per secret per host) are what overloads the cluster
//! (docs/benchmarks.md). So `fetch` renders a KV v2 secret from its
//! last-known-good cache **without contacting Vault** when Vault confirmed
//! exactly that cache (a full read, or a daemon's metadata check that found the
//! cached version current) less than `bootCacheMaxAge` ago; the daemon then
//! checks it within its first refresh interval. Everything else reads Vault.
//!
//! What a cache must show to be rendered without Vault ([`decide`]):
//! - `bootCacheMaxAge` is not zero, the secret is KV v2 (a KV v1 secret has no
//!   version a confirmation could name);
//! - the status record holds a [`Confirmation`] younger than `bootCacheMaxAge`
//!   (and not in the future: a clock that went back proves nothing), and the
//!   last attempt neither failed nor served the cache during an outage;
//! - the confirmation names the spec's KV mount, path and engine version, and
//!   the cache file on disk is the one it confirmed: it loads (format, path and
//!   mount checked by [`cache::load`]), and its engine version, KV version and
//!   `fetchedAt` are those recorded. A replaced, older or foreign cache file,
//!   or a spec that now points elsewhere, is read from Vault.
//!
//! The staleness this trades: a secret changed in Vault just after its last
//! confirmation is served unchanged for up to `bootCacheMaxAge` +
//! `refreshInterval` after a reboot (docs/explanation/security-model.md).

use crate::cache::{self, CacheEntry, CacheError};
use crate::spec::{KvVersion, SecretSpec};
use crate::state::{self, Confirmation, SecretRecord};
use std::path::Path;
use std::time::Duration;

/// What `fetch` does with one secret at boot.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Render the cache: Vault confirmed it this long ago.
    Render {
        entry: CacheEntry,
        confirmed_age: Duration,
    },
    /// Read Vault, for this reason (logged at debug level).
    ReadVault(&'static str),
}

/// Decides from the status record and the cache file's contents at `now`
/// (unix seconds); pure, so every rule has its unit test.
pub(crate) fn decide(
    secret: &SecretSpec,
    st: &SecretRecord,
    cache: Result<Option<CacheEntry>, CacheError>,
    now: u64,
) -> Decision {
    use Decision::ReadVault;
    if secret.boot_cache_max_age.is_zero() {
        return ReadVault("bootCacheMaxAge is 0s");
    }
    if secret.kv_version != KvVersion::V2 {
        return ReadVault("a KV v1 secret has no version to confirm");
    }
    if st.last_error.is_some() || st.from_cache_since.is_some() {
        return ReadVault("the last attempt failed or served the cache during an outage");
    }
    let Some(c) = &st.confirmed else {
        return ReadVault("Vault never confirmed the cache");
    };
    let Some(age) = now.checked_sub(c.at) else {
        return ReadVault("the confirmation is in the future (the clock went back)");
    };
    if age >= secret.boot_cache_max_age.as_secs() {
        return ReadVault("the confirmation is older than bootCacheMaxAge");
    }
    if c.kv_mount != secret.kv_mount || c.secret_path != secret.secret_path || c.kv_version != 2 {
        return ReadVault("the confirmation is for another KV path");
    }
    let entry = match cache {
        Ok(Some(e)) => e,
        Ok(None) => return ReadVault("there is no cache"),
        Err(_) => return ReadVault("the cache cannot be used"),
    };
    if entry.kv_version != 2
        || entry.version.is_none()
        || entry.version != c.version
        || st.version != c.version
        || crate::clock::unix_secs(entry.fetched_at) != c.cache_fetched_at
    {
        return ReadVault("the cache file is not the one Vault confirmed");
    }
    Decision::Render {
        entry,
        confirmed_age: Duration::from_secs(age),
    }
}

/// [`decide`] with the files on disk now.
pub(crate) fn decide_now(secret: &SecretSpec, state_dir: &Path) -> Decision {
    if secret.boot_cache_max_age.is_zero() {
        return Decision::ReadVault("bootCacheMaxAge is 0s");
    }
    let st = state::load(state_dir, &secret.name);
    decide(secret, &st, cache::load(secret), crate::clock::now_unix())
}

/// The confirmation of a cache just written from Vault (`fetch`, the daemon's
/// full reads).
pub(crate) fn confirmation(
    secret: &SecretSpec,
    version: Option<u64>,
    cache_fetched_at: u64,
    now: u64,
) -> Confirmation {
    Confirmation {
        at: now,
        kv_mount: secret.kv_mount.clone(),
        secret_path: secret.secret_path.clone(),
        kv_version: match secret.kv_version {
            KvVersion::V1 => 1,
            KvVersion::V2 => 2,
        },
        version,
        cache_fetched_at,
    }
}

/// Vault's metadata says `version` is current (the daemon's check): the
/// confirmation of the cache holding that version moves to now, and the secret
/// is no longer "rendered at boot, unconfirmed". Without a confirmation for
/// this cache (a record from before `bootCacheMaxAge`), one is made from the
/// cache file when it holds that version; otherwise none is recorded (the next
/// full read records one).
pub(crate) fn confirm_current(secret: &SecretSpec, state_dir: &Path, version: Option<u64>) {
    let mut st = state::load(state_dir, &secret.name);
    let now = crate::clock::now_unix();
    let same = |c: &Confirmation| {
        c.version == version && c.kv_mount == secret.kv_mount && c.secret_path == secret.secret_path
    };
    match st.confirmed.as_mut() {
        Some(c) if same(c) => c.at = now,
        _ => {
            st.confirmed =
                match cache::load(secret) {
                    Ok(Some(e)) if e.version.is_some() && e.version == version => Some(
                        confirmation(secret, version, crate::clock::unix_secs(e.fetched_at), now),
                    ),
                    _ => None,
                };
        }
    }
    st.version = version;
    st.boot_cache_since = None;
    st.from_cache_since = None;
    st.last_error = None;
    state::save(state_dir, &secret.name, &st);
}

/// The one INFO line `fetch` logs for a secret rendered from its confirmed cache.
pub(crate) fn log_rendered(name: &str, confirmed_age: &Duration, spec: &crate::spec::Spec) {
    let Some(s) = spec.secrets.get(name) else {
        return;
    };
    tracing::info!(
        "{name}: rendered from the cache Vault confirmed {} s ago (bootCacheMaxAge {}), without contacting Vault; the daemon re-checks it within one refresh interval ({})",
        confirmed_age.as_secs(),
        humantime::format_duration(s.boot_cache_max_age),
        humantime::format_duration(s.refresh_interval),
    );
}

#[cfg(test)]
mod tests;
