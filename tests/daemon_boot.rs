//! The daemon's start right after the boot units' `vaultkeeper fetch`: it does
//! not read again what was fetched less than one refresh interval ago (a
//! fleet-wide reboot costs one full read per secret, not two), checks the files
//! on disk against the cache at once, and reads from Vault whatever it cannot
//! adopt. After a boot from the confirmed cache (`fetch --boot`,
//! `bootCacheMaxAge`) it reads nothing at start and confirms within one interval.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use std::time::Duration;
use support::daemon::Daemon;
use support::fake::{vault_like, Fake};
use support::logged::assert_not_logged;
use support::run::{secret, vaultkeeper};
use support::spec::{files, Host};
use support::wait::wait_for;

fn data_reads(v: &Fake, from: usize) -> Vec<String> {
    v.requests()[from..]
        .iter()
        .filter(|q| q.path.starts_with("/v1/secret/data/"))
        .map(|q| q.path.clone())
        .collect()
}

#[test]
fn the_daemon_adopts_what_the_boot_fetch_just_read_and_reads_the_rest() {
    let pw = secret("pw");
    let vault = Fake::http(vault_like(secret("token"), json!({ "pw": pw }), |_| None));
    let host = Host::new();
    host.write_credentials("fake-role-id", &secret("secretid"));
    let mut spec = host.spec(
        &vault.addr,
        json!({
            "a": { "secretPath": "hosts/h1/a" },
            "b": { "secretPath": "hosts/h1/b" },
            "old": { "secretPath": "hosts/h1/old" },
        }),
    );
    spec["refreshInterval"] = json!("60s");
    spec["approle"]["roleName"] = json!("h1");
    let spec_path = host.write_spec(&spec);
    let r = vaultkeeper(&["--spec", spec_path.to_str().unwrap(), "fetch"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // "old" was fetched longer ago than its refresh interval: not adopted.
    let rec = host.state_dir().join("status/old.json");
    let mut st: serde_json::Value = serde_json::from_slice(&std::fs::read(&rec).unwrap()).unwrap();
    st["lastFetch"] = json!(st["lastFetch"].as_u64().unwrap() - 120);
    std::fs::write(&rec, st.to_string()).unwrap();
    // Someone deleted b's file between the boot unit and the daemon.
    std::fs::remove_file(host.out("b").join("pw")).unwrap();
    // The daemon runs a newer spec than the boot unit did: a's mode changed.
    let mode = |p: &std::path::Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
            & 0o7777
    };
    assert_eq!(mode(&host.out("a").join("pw")), 0o400);

    spec["secrets"]["a"]["mode"] = json!("0440");
    let spec_path = host.write_spec(&spec);

    let before = vault.requests().len();
    let d = Daemon::start(&spec_path, &[]);
    d.wait_log("logged in with AppRole", Duration::from_secs(20));
    wait_for(
        "b's file restored from the cache",
        Duration::from_secs(10),
        || {
            std::fs::read_to_string(host.out("b").join("pw"))
                .ok()
                .filter(|v| *v == pw)
        },
    );
    wait_for("old read from Vault", Duration::from_secs(10), || {
        (!data_reads(&vault, before).is_empty()).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    // Only "old" was read again; a and b wait for their first refresh (≥ 48 s).
    assert_eq!(
        data_reads(&vault, before),
        vec!["/v1/secret/data/hosts/h1/old".to_string()],
        "{}",
        d.log_text()
    );
    for s in ["a", "b", "old"] {
        assert_eq!(files(&host.out(s))["pw"], pw);
    }
    assert_eq!(
        mode(&host.out("a").join("pw")),
        0o440,
        "the daemon's spec applies"
    );
    let log = d.log_text();
    assert_not_logged(&log, " ERROR ");
}

/// `fetch --boot` rendered the secret from the cache Vault confirmed moments
/// ago (no request at all); the daemon adopts it without reading it, and its
/// first check, a metadata read within the first refresh interval, confirms it.
#[test]
fn after_a_boot_from_the_confirmed_cache_the_daemon_reads_nothing_at_start_and_confirms_within_one_interval(
) {
    let pw = secret("bootpw");
    let vault = Fake::http(vault_like(secret("token"), json!({ "pw": pw }), |q| {
        q.path
            .starts_with("/v1/secret/metadata/")
            .then(|| support::fake::Reply::Json(200, json!({ "data": { "current_version": 1 } })))
    }));
    let host = Host::new();
    host.write_credentials("fake-role-id", &secret("secretid"));
    let mut spec = host.spec(&vault.addr, json!({ "a": { "secretPath": "hosts/h1/a" } }));
    spec["refreshInterval"] = json!("4s");
    spec["approle"]["roleName"] = json!("h1");
    let spec_path = host.write_spec(&spec);
    let r = vaultkeeper(&["--spec", spec_path.to_str().unwrap(), "fetch"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let record = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(host.state_dir().join("status/a.json")).unwrap())
            .unwrap()
    };
    let confirmed_first = record()["confirmed"]["at"].as_u64().unwrap();

    // The reboot: the boot unit asks Vault nothing.
    std::fs::remove_dir_all(host.path("run")).unwrap();
    let before = vault.requests().len();
    let r = vaultkeeper(
        &[
            "--spec",
            spec_path.to_str().unwrap(),
            "fetch",
            "--boot",
            "a",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(vault.requests().len(), before, "{}", r.stderr);
    assert!(r
        .stderr
        .contains("a: rendered from the cache Vault confirmed"));
    assert!(record()["bootCacheSince"].as_u64().is_some());

    let started = std::time::Instant::now();
    let d = Daemon::start(&spec_path, &[]);
    d.wait_log("logged in with AppRole", Duration::from_secs(20));
    let metadata = || {
        vault.requests()[before..]
            .iter()
            .filter(|q| q.path == "/v1/secret/metadata/hosts/h1/a")
            .count()
    };
    wait_for(
        "the first check (a metadata read)",
        Duration::from_secs(10),
        || (metadata() > 0).then_some(()),
    );
    // Within its first refresh interval (4 s) of the start, plus the start itself.
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    d.wait_log(
        "secret a: Vault confirmed the version rendered at boot from the cache",
        Duration::from_secs(5),
    );
    let st = record();
    assert_eq!(st["bootCacheSince"], serde_json::Value::Null, "{st}");
    assert!(
        st["confirmed"]["at"].as_u64().unwrap() >= confirmed_first,
        "{st}"
    );
    // Later checks keep confirming it (a host up for days still qualifies).
    std::thread::sleep(Duration::from_secs(5));
    assert!(metadata() >= 2, "{}", d.log_text());
    assert!(record()["confirmed"]["at"].as_u64().unwrap() > confirmed_first);
    // Never a full read: the adopted cache was current all along.
    assert_eq!(
        data_reads(&vault, before),
        Vec::<String>::new(),
        "{}",
        d.log_text()
    );
    assert_eq!(files(&host.out("a"))["pw"], pw);
    let log = d.log_text();
    assert!(!log.contains(" ERROR "), "{log}");
    assert!(!log.contains("secret a: fetched from Vault"), "{log}");
    assert!(
        log.contains(
            "rendered at boot from its confirmed cache: checked within the first refresh interval"
        ),
        "{log}"
    );
}
