//! Every rule of [`super::decide`], and the daemon's metadata check moving
//! the confirmation ([`super::confirm_current`]).

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
fn record(s: &SecretSpec, age: u64) -> SecretRecord {
    SecretRecord {
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
    let old = SecretRecord {
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
    assert!(crate::clock::now_unix() - c.at < 5);
    assert_eq!(st.boot_cache_since, None);
    assert!(matches!(
        decide_now(s, &spec.state_dir),
        Decision::Render { .. }
    ));
    // Another version is current in Vault: no confirmation of this cache.
    confirm_current(s, &spec.state_dir, Some(8));
    assert_eq!(state::load(&spec.state_dir, "app").confirmed, None);
}
