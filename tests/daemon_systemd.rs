//! `vaultkeeper run` end to end under a real systemd (Debian 252 as PID 1 of its
//! own namespaces, see tests/support/container.rs) with a real OpenBao on the
//! host's loopback: Type=notify readiness, per-secret oneshots before their
//! consumers, change-driven and scheduled restarts (critical services left
//! alone), reload without restarts, an OpenBao outage, and the watchdog.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

#[path = "support/container.rs"]
mod container;
#[path = "support/loud.rs"]
mod loud;
mod support;

use container::Container;
use serde_json::json;
use std::time::Duration;
use support::bao::Bao;
use support::run::{assert_no_secret_in, keep_log, secret};
use support::wait::wait_until;

const DAEMON_UNIT: &str = "[Unit]
Description=vaultkeeper daemon

[Service]
Type=notify
ExecStart=/host/vaultkeeper --spec /host/spec.json run
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec=3s
Restart=on-failure
RestartSec=500ms
TimeoutStopSec=3s
Environment=VAULTKEEPER_LOG=info
# The sandbox of nix/module/hardening.nix: the daemon must still render, watch and
# restart services through PID 1 inside it.
CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=/var/lib/vaultkeeper /run/secrets
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service ~@resources
SystemCallErrorNumber=EPERM
DevicePolicy=closed
UMask=0077
";

fn oneshot(name: &str) -> String {
    format!(
        "[Unit]
Description=vaultkeeper: secret {name}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/host/vaultkeeper --spec /host/spec.json fetch {name}
"
    )
}

/// A long-running consumer that copies its secret at start (what it "saw").
fn consumer(secret: &str, file: &str, saw: &str) -> String {
    format!(
        "[Unit]
Requires=vault-secret-{secret}.service
After=vault-secret-{secret}.service

[Service]
ExecStart=/bin/sh -c 'cat /run/secrets/{secret}/{file} > /run/{saw}; exec sleep infinity'
"
    )
}

fn provision(bao: &Bao, role_id: &str, secret_id: &str, values: &[(&str, serde_json::Value)]) {
    for (path, v) in values {
        bao.kv_put(path, v);
    }
    bao.approle("web01");
    bao.cli(&[
        "write",
        "auth/approle/role/web01/role-id",
        &format!("role_id={role_id}"),
    ]);
    bao.cli(&[
        "write",
        "auth/approle/role/web01/custom-secret-id",
        &format!("secret_id={secret_id}"),
    ]);
}

#[test]
fn the_daemon_under_a_real_systemd() {
    let Some(rootfs) = container::rootfs_or_skip("the_daemon_under_a_real_systemd") else {
        return;
    };
    let mut bao = Bao::dev();
    let (pw1, pw2, rot) = (secret("pw1"), secret("pw2"), secret("rot"));
    let values = vec![
        ("hosts/web01/app", json!({"password": pw1})),
        ("hosts/web01/rot", json!({"token": rot})),
    ];
    for (p, v) in &values {
        bao.kv_put(p, v);
    }
    let (role_id, secret_id) = bao.approle("web01");

    let hostdir = tempfile::tempdir().unwrap();
    std::fs::copy(support::run::bin(), hostdir.path().join("vaultkeeper")).unwrap();
    let spec = json!({
        "vault": {"address": bao.addr, "timeout": "2s"},
        "stateDir": "/var/lib/vaultkeeper",
        "refreshInterval": "1s",
        "criticalServices": ["critical", "rotcrit.service"],
        "secrets": {
            "app": {"secretPath": "hosts/web01/app", "services": ["consumer", "critical"]},
            "rot": {"secretPath": "hosts/web01/rot", "services": ["rotating", "rotcrit"],
                    "onChange": "none", "restartTrigger": true, "restartInterval": "4s",
                    "restartRandomizedDelay": "1s"}
        }
    });
    let spec_path = hostdir.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_string_pretty(&spec).unwrap()).unwrap();

    let c = Container::boot(&rootfs, hostdir.path());
    c.write("/var/lib/vaultkeeper/approle/role-id", &role_id, 0o600);
    c.write("/var/lib/vaultkeeper/approle/secret-id", &secret_id, 0o600);
    c.write_unit("vault-secret-app.service", &oneshot("app"));
    c.write_unit("vaultkeeper.service", DAEMON_UNIT);
    c.write_unit(
        "consumer.service",
        &consumer("app", "password", "consumer-saw"),
    );
    c.write_unit(
        "critical.service",
        &consumer("app", "password", "critical-saw"),
    );
    for unit in ["rotating", "rotcrit"] {
        c.write_unit(
            &format!("{unit}.service"),
            "[Service]\nExecStart=/bin/sleep infinity\n",
        );
    }
    c.daemon_reload();
    let journal =
        |c: &Container| c.stdout(&["journalctl", "-u", "vaultkeeper", "--no-pager", "-o", "cat"]);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // A consumer that Requires=/After= its oneshot finds its file when it starts.
        c.ok(&[
            "systemctl",
            "start",
            "consumer.service",
            "critical.service",
            "rotating.service",
            "rotcrit.service",
        ]);
        // (Type=simple: `start` returns once forked; the copy follows.)
        wait_until("the consumer's copy", Duration::from_secs(5), || {
            std::fs::read_to_string(c.path("/run/consumer-saw"))
                .ok()
                .as_deref()
                == Some(pw1.as_str())
        });
        assert_eq!(c.show("vault-secret-app.service", "ActiveState"), "active");
        assert!(
            !c.path("/run/secrets/rot").exists(),
            "no oneshot renders rot"
        );

        // Type=notify: `systemctl start` returns once READY=1 came, and by then
        // the daemon has rendered rot (which only it renders).
        c.ok(&["systemctl", "start", "vaultkeeper.service"]);
        assert_eq!(c.show("vaultkeeper.service", "ActiveState"), "active");
        assert_eq!(
            std::fs::read_to_string(c.path("/run/secrets/rot/token")).unwrap(),
            rot
        );
        let status = c.show("vaultkeeper.service", "StatusText");
        assert!(
            status.starts_with("2 secrets fresh, token ttl 59m, next rotation: rotating in "),
            "{status}"
        );
        assert_eq!(c.show("vaultkeeper.service", "WatchdogUSec"), "3s");

        // A change in OpenBao: the file is updated within the refresh interval,
        // the consumer restarted (new InvocationID, sees the new value), the
        // critical consumer not.
        let consumer_id = c.show("consumer.service", "InvocationID");
        let critical_id = c.show("critical.service", "InvocationID");
        bao.kv_put("hosts/web01/app", &json!({"password": pw2}));
        let took = wait_until(
            "the new password in the container",
            Duration::from_secs(10),
            || {
                std::fs::read_to_string(c.path("/run/secrets/app/password"))
                    .ok()
                    .as_deref()
                    == Some(pw2.as_str())
            },
        );
        assert!(took < Duration::from_secs(3), "{took:?}");
        wait_until("consumer restarted", Duration::from_secs(10), || {
            c.show("consumer.service", "InvocationID") != consumer_id
        });
        wait_until("the consumer saw pw2", Duration::from_secs(5), || {
            std::fs::read_to_string(c.path("/run/consumer-saw"))
                .ok()
                .as_deref()
                == Some(pw2.as_str())
        });
        assert_eq!(c.show("critical.service", "InvocationID"), critical_id);
        assert_eq!(
            std::fs::read_to_string(c.path("/run/critical-saw")).unwrap(),
            pw1
        );
        assert!(
            journal(&c).contains("restart needed: critical.service uses secret app"),
            "{}",
            journal(&c)
        );

        // Scheduled rotation every 4s (+ up to 1s): rotating restarts, rotcrit never.
        let rot_id = c.show("rotating.service", "InvocationID");
        let rotcrit_id = c.show("rotcrit.service", "InvocationID");
        wait_until(
            "a scheduled restart of rotating",
            Duration::from_secs(12),
            || c.show("rotating.service", "InvocationID") != rot_id,
        );
        assert_eq!(c.show("rotcrit.service", "InvocationID"), rotcrit_id);
        assert!(journal(&c).contains("scheduled restart of rotating.service"));
        assert!(!journal(&c).contains("scheduled restart of rotcrit"));
        let book = std::fs::read_to_string(c.path("/var/lib/vaultkeeper/rotation.json")).unwrap();
        assert!(
            book.contains("\"rotating.service\"") && !book.contains("rotcrit"),
            "{book}"
        );

        // Reload (SIGHUP through ExecReload): no restart of services whose secrets did not change.
        let consumer_id = c.show("consumer.service", "InvocationID");
        let daemon_pid = c.show("vaultkeeper.service", "MainPID");
        c.ok(&["systemctl", "reload", "vaultkeeper.service"]);
        wait_until("reload logged", Duration::from_secs(5), || {
            journal(&c).contains("spec reloaded")
        });
        assert_eq!(c.show("vaultkeeper.service", "ActiveState"), "active");
        assert_eq!(c.show("vaultkeeper.service", "MainPID"), daemon_pid);
        // A spec change (inotify) that only adds an unrelated critical service.
        let mut spec2 = spec.clone();
        spec2["criticalServices"] = json!(["critical", "rotcrit.service", "other"]);
        std::fs::write(&spec_path, serde_json::to_string_pretty(&spec2).unwrap()).unwrap();
        wait_until("second reload", Duration::from_secs(5), || {
            journal(&c).matches("spec reloaded").count() >= 2
        });
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(c.show("consumer.service", "InvocationID"), consumer_id);

        // OpenBao killed: the daemon keeps serving from the cache and says so.
        bao.stop();
        wait_until("STATUS: from cache", Duration::from_secs(10), || {
            c.show("vaultkeeper.service", "StatusText")
                .contains("from cache (vault unreachable for")
        });
        assert_eq!(c.show("vaultkeeper.service", "ActiveState"), "active");
        assert_eq!(
            std::fs::read_to_string(c.path("/run/secrets/app/password")).unwrap(),
            pw2
        );
        // ... and recovers when it returns (a fresh dev server, provisioned again).
        bao.start();
        let values2 = vec![
            ("hosts/web01/app", json!({"password": pw2})),
            ("hosts/web01/rot", json!({"token": rot})),
        ];
        provision(&bao, &role_id, &secret_id, &values2);
        wait_until("STATUS: fresh again", Duration::from_secs(20), || {
            c.show("vaultkeeper.service", "StatusText")
                .starts_with("2 secrets fresh, token ttl")
        });
        assert!(
            !journal(&c).contains("grant the host's policy"),
            "{}",
            journal(&c)
        );

        // SIGSTOP: the watchdog pings stop, systemd kills and restarts the daemon.
        let pid = c.show("vaultkeeper.service", "MainPID");
        c.ok(&["kill", "-STOP", &pid]);
        wait_until("a watchdog restart", Duration::from_secs(20), || {
            let now = c.show("vaultkeeper.service", "MainPID");
            now != pid && now != "0" && c.show("vaultkeeper.service", "ActiveState") == "active"
        });
        assert_eq!(c.show("vaultkeeper.service", "NRestarts"), "1");
        let j = c.stdout(&["journalctl", "--no-pager", "-o", "cat"]);
        assert!(j.contains("vaultkeeper.service: Watchdog timeout"), "{j}");
    }));
    let j = c.stdout(&["journalctl", "--no-pager", "-o", "cat"]);
    keep_log("container-journal", &j);
    assert_no_secret_in(&j, "the container's journal");
    drop(c);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
