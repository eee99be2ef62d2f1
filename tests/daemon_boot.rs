//! The daemon's start right after the boot units' `vaultkeeper fetch`: it does
//! not read again what was fetched less than one refresh interval ago (a
//! fleet-wide reboot costs one full read per secret, not two), checks the files
//! on disk against the cache at once, and reads from Vault whatever it cannot
//! adopt.

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
