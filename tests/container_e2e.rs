//! End to end on a real systemd: the units the NixOS module evaluates to
//! (tests/nix/scenarios/container.nix), rendered to unit files, with the real
//! binary and a real OpenBao. First boot: bootstrap from the wrapped token in
//! /etc/environment, then the fetch, then the consumer, which finds its secret
//! with the right owner and mode. Second boot with OpenBao down: the bootstrap
//! does not run again, the secret comes from the cache, the consumer starts.
//! Also measures `systemd-analyze security` of the daemon's unit.

#[path = "support/container.rs"]
mod container;
#[path = "support/loud.rs"]
mod loud;
#[path = "support/nix_eval.rs"]
mod nix_eval;
mod support;
#[path = "support/units.rs"]
mod units;

use container::{Container, Disk};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;
use support::bao::Bao;
use support::run::{register_secret, secret, vaultkeeper};

const UNITS: [&str; 4] = [
    "vaultkeeper-bootstrap",
    "vault-secret-demo",
    "demo",
    "vaultkeeper",
];

fn assert_active(c: &Container, unit: &str) {
    let state = c.show(&format!("{unit}.service"), "ActiveState");
    let journal = c.stdout(&[
        "journalctl",
        "-b",
        "--no-pager",
        "-u",
        &format!("{unit}.service"),
    ]);
    // Who may reach the secret, component by component.
    let path = c.stdout(&["namei", "-l", "/run/secrets/demo/password"]);
    assert!(state == "active", "{unit} is {state}:\n{journal}\n{path}");
}

fn monotonic(c: &Container, unit: &str, prop: &str) -> u64 {
    c.show(&format!("{unit}.service"), prop).parse().unwrap()
}

/// Puts the evaluated configuration on the container's disk, the way a NixOS
/// activation would: package, spec, units, tmpfiles rules, users.
fn install(c: &Container, eval: &Value, bao_addr: &str, wrapped_token: &str) {
    let pkg = eval["vaultkeeperPath"].as_str().unwrap();
    let bin = std::fs::read(env!("CARGO_BIN_EXE_vaultkeeper")).unwrap();
    let dest = c.path(&format!("{pkg}/bin/vaultkeeper"));
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::write(&dest, bin).unwrap();
    std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let mut spec: Value = serde_json::from_str(eval["specFile"]["text"].as_str().unwrap()).unwrap();
    spec["vault"]["address"] = json!(bao_addr);
    c.write("/etc/vaultkeeper/spec.json", &spec.to_string(), 0o644);
    let rules = eval["tmpfiles"].as_array().unwrap().iter();
    let rules: String = rules
        .map(|r| format!("{}\n", r.as_str().unwrap()))
        .collect();
    c.write("/etc/tmpfiles.d/vaultkeeper.conf", &rules, 0o644);
    // What cloud-init writes on the first boot.
    c.write(
        "/etc/environment",
        &format!("VAULT_WRAPPED_TOKEN={wrapped_token}\n"),
        0o600,
    );
    c.ok(&["useradd", "--system", "--no-create-home", "demo"]);
    for name in UNITS {
        c.write_unit(
            &format!("{name}.service"),
            &units::render(&eval["services"][name]),
        );
    }
    c.daemon_reload();
    // The daemon (`vaultkeeper run`) is installed but not enabled: only its
    // sandbox is measured here.
    c.ok(&[
        "systemctl",
        "enable",
        "vaultkeeper-bootstrap",
        "vault-secret-demo",
        "demo",
    ]);
}

#[test]
fn module_units_boot_bootstrap_fetch_consumer_then_reboot_from_cache() {
    let test = "module_units_boot_bootstrap_fetch_consumer_then_reboot_from_cache";
    let Some(nix) = nix_eval::Nix::find(test) else {
        return;
    };
    let Some(rootfs) = container::rootfs_or_skip(test) else {
        return;
    };
    let eval = nix.eval("container");
    assert_eq!(eval["failedAssertions"], json!([]));

    let mut bao = Bao::dev();
    let password = secret("e2e-password");
    bao.kv_put("hosts/e2e/demo", &json!({ "password": password }));
    let r = vaultkeeper(
        &["provision", "--host", "e2e"],
        &[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", "root")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token = r.stdout.trim().to_string();
    register_secret(&token);

    let host = tempfile::tempdir().unwrap();
    let disk = Disk::new();
    // Boot 0: the image is prepared (what nixos-install would leave on disk).
    {
        let c = Container::boot_on(&rootfs, &disk, host.path());
        install(&c, &eval, &bao.addr, &token);
    }

    // Boot 1: the host's first real boot.
    {
        let c = Container::boot_on(&rootfs, &disk, host.path());
        let _ = writeln!(
            std::io::stderr(),
            "e2e first boot: {} ms",
            c.boot_time.as_millis()
        );
        for unit in ["vaultkeeper-bootstrap", "vault-secret-demo", "demo"] {
            assert_active(&c, unit);
        }
        assert_eq!(
            c.show("vaultkeeper-bootstrap.service", "ConditionResult"),
            "yes"
        );
        assert_eq!(
            c.ok(&[
                "stat",
                "-c",
                "%U %a",
                "/var/lib/vaultkeeper/approle/secret-id"
            ]),
            "root 600"
        );
        assert_eq!(
            c.ok(&["stat", "-c", "%U:%G %a", "/var/lib/vaultkeeper"]),
            "root:root 700"
        );
        assert_eq!(
            c.ok(&["stat", "-L", "-c", "%U:%G %a", "/run/secrets/demo/password"]),
            "demo:demo 440"
        );
        assert_eq!(c.ok(&["cat", "/var/lib/demo/seen"]), password);
        // Order: bootstrap done before the fetch started, fetch done before the consumer.
        assert!(
            monotonic(
                &c,
                "vaultkeeper-bootstrap",
                "ExecMainExitTimestampMonotonic"
            ) <= monotonic(&c, "vault-secret-demo", "ExecMainStartTimestampMonotonic")
        );
        assert!(
            monotonic(&c, "vault-secret-demo", "ExecMainExitTimestampMonotonic")
                <= monotonic(&c, "demo", "ExecMainStartTimestampMonotonic")
        );
        // The daemon's sandbox, as systemd scores it.
        let report = c.ok(&[
            "systemd-analyze",
            "security",
            "--no-pager",
            "vaultkeeper.service",
        ]);
        let overall = report
            .lines()
            .find_map(|l| {
                l.split("Overall exposure level for vaultkeeper.service: ")
                    .nth(1)
            })
            .expect("an overall exposure line");
        let score: f64 = overall.split_whitespace().next().unwrap().parse().unwrap();
        let _ = writeln!(
            std::io::stderr(),
            "systemd-analyze security vaultkeeper.service: {overall}"
        );
        assert!(score <= 2.5, "exposure {score} got worse:\n{report}");
    }

    // Boot 2: OpenBao is down.
    bao.stop();
    {
        let c = Container::boot_on(&rootfs, &disk, host.path());
        assert_eq!(
            c.show("vaultkeeper-bootstrap.service", "ConditionResult"),
            "no"
        );
        assert_active(&c, "vault-secret-demo");
        assert_active(&c, "demo");
        assert_eq!(c.ok(&["cat", "/var/lib/demo/seen"]), password);
        assert_eq!(
            c.ok(&["stat", "-L", "-c", "%U:%G %a", "/run/secrets/demo/password"]),
            "demo:demo 440"
        );
        c.wait_for("nothing", Duration::from_millis(1), |_| true);
    }
}
