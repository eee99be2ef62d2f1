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
use crate::state::{self, Confirmation, SecretStatus};
use std::path::Path;
use std::time::Duration;

/// What `fetch` does with one secret at boot.
#[derive(Debug)]
pub enum Decision {
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
pub fn decide(
    secret: &SecretSpec,
    st: &SecretStatus,
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
        || cache::unix(entry.fetched_at) != c.cache_fetched_at
    {
        return ReadVault("the cache file is not the one Vault confirmed");
    }
    Decision::Render {
        entry,
        confirmed_age: Duration::from_secs(age),
    }
}

/// [`decide`] with the files on disk now.
pub fn decide_now(secret: &SecretSpec, state_dir: &Path) -> Decision {
    if secret.boot_cache_max_age.is_zero() {
        return Decision::ReadVault("bootCacheMaxAge is 0s");
    }
    let st = state::load(state_dir, &secret.name);
    decide(secret, &st, cache::load(secret), state::now_unix())
}

/// The confirmation of a cache just written from Vault (`fetch`, the daemon's
/// full reads).
pub fn confirmation(
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
pub fn confirm_current(secret: &SecretSpec, state_dir: &Path, version: Option<u64>) {
    let mut st = state::load(state_dir, &secret.name);
    let now = state::now_unix();
    let same = |c: &Confirmation| {
        c.version == version && c.kv_mount == secret.kv_mount && c.secret_path == secret.secret_path
    };
    match st.confirmed.as_mut() {
        Some(c) if same(c) => c.at = now,
        _ => {
            st.confirmed =
                match cache::load(secret) {
                    Ok(Some(e)) if e.version.is_some() && e.version == version => Some(
                        confirmation(secret, version, cache::unix(e.fetched_at), now),
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
pub fn log_rendered(name: &str, confirmed_age: &Duration, spec: &crate::spec::Spec) {
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
mod tests {
    use super::*;
    use crate::spec::Spec;
    use crate::vault::kv::SecretData;
    use serde_json::json;
    use std::time::UNIX_EPOCH;

    const NOW: u64 = 1_800_000_000;

    fn secret(extra: serde_json::Value) -> SecretSpec {
        let mut s = json!({ "secretPath": "hosts/h/app" });
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        let spec = Spec::from_json(
            "spec.json",
            &json!({
                "vault": { "address": "http://127.0.0.1:8200" },
                "secrets": { "app": s },
            })
            .to_string(),
        )
        .unwrap();
        spec.secrets["app"].clone()
    }

    fn entry(version: u64, fetched_at: u64) -> CacheEntry {
        CacheEntry {
            fetched_at: UNIX_EPOCH + Duration::from_secs(fetched_at),
            kv_version: 2,
            version: Some(version),
            data: SecretData(Default::default()),
        }
    }

    /// A record Vault confirmed `age` seconds before NOW, for version 3 of a
    /// cache fetched at NOW - 3600.
    fn record(s: &SecretSpec, age: u64) -> SecretStatus {
        SecretStatus {
            last_fetch: Some(NOW - 3600),
            version: Some(3),
            confirmed: Some(confirmation(s, Some(3), NOW - 3600, NOW - age)),
            ..Default::default()
        }
    }

    fn reason(d: Decision) -> &'static str {
        match d {
            Decision::ReadVault(r) => r,
            Decision::Render { .. } => "render",
        }
    }

    #[test]
    fn a_cache_confirmed_within_max_age_is_rendered() {
        let s = secret(json!({}));
        assert_eq!(s.boot_cache_max_age, Duration::from_secs(900));
        match decide(&s, &record(&s, 120), Ok(Some(entry(3, NOW - 3600))), NOW) {
            Decision::Render {
                confirmed_age,
                entry,
            } => {
                assert_eq!(confirmed_age, Duration::from_secs(120));
                assert_eq!(entry.version, Some(3));
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn older_than_max_age_reads_vault() {
        let s = secret(json!({}));
        let e = || Ok(Some(entry(3, NOW - 3600)));
        assert_eq!(
            reason(decide(&s, &record(&s, 900), e(), NOW)),
            "the confirmation is older than bootCacheMaxAge"
        );
        assert_eq!(
            reason(decide(&s, &record(&s, 899), e(), NOW)),
            "render",
            "strictly less than the maximum"
        );
        let longer = secret(json!({ "bootCacheMaxAge": "1h" }));
        assert_eq!(
            reason(decide(&longer, &record(&longer, 3000), e(), NOW)),
            "render"
        );
    }

    #[test]
    fn zero_max_age_and_kv_v1_always_read() {
        let s = secret(json!({ "bootCacheMaxAge": "0s" }));
        assert_eq!(
            reason(decide(
                &s,
                &record(&s, 1),
                Ok(Some(entry(3, NOW - 3600))),
                NOW
            )),
            "bootCacheMaxAge is 0s"
        );
        let v1 = secret(json!({ "kvVersion": 1 }));
        assert_eq!(
            reason(decide(
                &v1,
                &record(&v1, 1),
                Ok(Some(entry(3, NOW - 3600))),
                NOW
            )),
            "a KV v1 secret has no version to confirm"
        );
    }

    #[test]
    fn errors_outages_missing_and_future_confirmations_read() {
        let s = secret(json!({}));
        let e = || Ok(Some(entry(3, NOW - 3600)));
        let mut r = record(&s, 10);
        r.last_error = Some("denied".into());
        assert!(reason(decide(&s, &r, e(), NOW)).starts_with("the last attempt"));
        let mut r = record(&s, 10);
        r.from_cache_since = Some(NOW - 5);
        assert!(reason(decide(&s, &r, e(), NOW)).starts_with("the last attempt"));
        let mut r = record(&s, 10);
        r.confirmed = None;
        assert_eq!(
            reason(decide(&s, &r, e(), NOW)),
            "Vault never confirmed the cache"
        );
        let mut r = record(&s, 0);
        r.confirmed.as_mut().unwrap().at = NOW + 60;
        assert!(reason(decide(&s, &r, e(), NOW)).contains("clock went back"));
    }

    #[test]
    fn a_replaced_foreign_or_missing_cache_reads() {
        let s = secret(json!({}));
        let r = record(&s, 10);
        let not_it = "the cache file is not the one Vault confirmed";
        // Another version, another fetch time, a KV v1 file, no version.
        assert_eq!(
            reason(decide(&s, &r, Ok(Some(entry(2, NOW - 3600))), NOW)),
            not_it
        );
        assert_eq!(
            reason(decide(&s, &r, Ok(Some(entry(3, NOW - 3599))), NOW)),
            not_it
        );
        let mut v1 = entry(3, NOW - 3600);
        v1.kv_version = 1;
        assert_eq!(reason(decide(&s, &r, Ok(Some(v1)), NOW)), not_it);
        let mut none = entry(3, NOW - 3600);
        none.version = None;
        assert_eq!(reason(decide(&s, &r, Ok(Some(none)), NOW)), not_it);
        // The record's version disagrees with its confirmation.
        let mut r2 = record(&s, 10);
        r2.version = Some(4);
        assert_eq!(
            reason(decide(&s, &r2, Ok(Some(entry(3, NOW - 3600))), NOW)),
            not_it
        );
        assert_eq!(reason(decide(&s, &r, Ok(None), NOW)), "there is no cache");
        let corrupt = Err(CacheError::Corrupt {
            secret: "app".into(),
            path: "/x".into(),
            detail: "eof".into(),
        });
        assert_eq!(
            reason(decide(&s, &r, corrupt, NOW)),
            "the cache cannot be used"
        );
    }

    #[test]
    fn a_spec_that_moved_reads() {
        let s = secret(json!({}));
        let r = record(&s, 10);
        let e = || Ok(Some(entry(3, NOW - 3600)));
        for moved in [
            secret(json!({ "secretPath": "hosts/h/other" })),
            secret(json!({ "kvMount": "kv" })),
        ] {
            assert_eq!(
                reason(decide(&moved, &r, e(), NOW)),
                "the confirmation is for another KV path"
            );
        }
    }

    #[test]
    fn a_metadata_check_moves_the_confirmation_and_ends_the_boot_cache_state() {
        let t = tempfile::tempdir().unwrap();
        let spec = Spec::from_json(
            "spec.json",
            &json!({
                "vault": { "address": "http://127.0.0.1:8200" },
                "stateDir": t.path().join("state"),
                "secrets": { "app": { "secretPath": "hosts/h/app" } },
            })
            .to_string(),
        )
        .unwrap();
        let s = &spec.secrets["app"];
        let kv = crate::vault::kv::KvSecret {
            data: SecretData([("k".to_string(), json!("v"))].into_iter().collect()),
            version: Some(7),
        };
        let fetched = UNIX_EPOCH + Duration::from_secs(NOW - 7200);
        cache::store(s, &kv, fetched).unwrap();
        // A record from before bootCacheMaxAge: no confirmation yet.
        let old = SecretStatus {
            last_fetch: Some(NOW - 7200),
            version: Some(7),
            boot_cache_since: Some(NOW - 60),
            ..Default::default()
        };
        state::save(&spec.state_dir, "app", &old);
        confirm_current(s, &spec.state_dir, Some(7));
        let st = state::load(&spec.state_dir, "app");
        let c = st.confirmed.clone().expect("made from the cache file");
        assert_eq!(c.cache_fetched_at, NOW - 7200);
        assert_eq!(c.version, Some(7));
        assert!(state::now_unix() - c.at < 5);
        assert_eq!(st.boot_cache_since, None);
        assert!(matches!(
            decide_now(s, &spec.state_dir),
            Decision::Render { .. }
        ));
        // Another version is current in Vault: no confirmation of this cache.
        confirm_current(s, &spec.state_dir, Some(8));
        assert_eq!(state::load(&spec.state_dir, "app").confirmed, None);
    }
}
