//! The units the module defines: names, ordering, hardening, tmpfiles.

use super::{nix_or_skip, PKG};
use serde_json::{json, Value};

fn exe(args: &str) -> String {
    format!("{PKG}/bin/vaultkeeper --spec /etc/vaultkeeper/spec.json {args}")
}

/// The sandbox every vaultkeeper unit gets, with `writable` as ReadWritePaths.
fn hardening(writable: &[&str]) -> serde_json::Map<String, Value> {
    let v = json!({
        "CapabilityBoundingSet": ["CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE"],
        "AmbientCapabilities": "",
        "NoNewPrivileges": true,
        "ProtectSystem": "strict",
        "ReadWritePaths": writable,
        "ProtectHome": true,
        "PrivateTmp": true,
        "PrivateDevices": true,
        "PrivateIPC": true,
        "ProtectKernelTunables": true,
        "ProtectKernelModules": true,
        "ProtectKernelLogs": true,
        "ProtectControlGroups": true,
        "ProtectClock": true,
        "ProtectHostname": true,
        "ProtectProc": "invisible",
        "ProcSubset": "pid",
        "RestrictAddressFamilies": ["AF_UNIX", "AF_INET", "AF_INET6"],
        "RestrictNamespaces": true,
        "RestrictRealtime": true,
        "RestrictSUIDSGID": true,
        "LockPersonality": true,
        "MemoryDenyWriteExecute": true,
        "RemoveIPC": true,
        "SystemCallArchitectures": "native",
        "SystemCallFilter": ["@system-service", "~@resources"],
        "SystemCallErrorNumber": "EPERM",
        "DevicePolicy": "closed",
        "LimitCORE": 0,
        "UMask": "0077"
    });
    v.as_object().unwrap().clone()
}

fn with(mut base: serde_json::Map<String, Value>, extra: Value) -> Value {
    base.extend(extra.as_object().unwrap().clone());
    Value::Object(base)
}

const DEFAULT_RW: &[&str] = &["/var/lib/vaultkeeper", "/run/secrets"];

#[test]
fn unit_names() {
    let nix = nix_or_skip!("unit_names");
    let got = nix.eval("contract");
    let names: Vec<&String> = got["services"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "grafana",
            "vault-secret-grafana",
            "vaultkeeper",
            "vaultkeeper-adopt-credentials",
            "vaultkeeper-bootstrap"
        ]
    );
    let full = nix.eval("full");
    let names: Vec<&String> = full["services"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "pgbouncer",
            "postgresql",
            "vault-secret-db",
            "vault-secret-slack",
            "vaultkeeper",
            "vaultkeeper-adopt-credentials",
            "vaultkeeper-bootstrap"
        ]
    );
}

#[test]
fn bootstrap_runs_once_and_cannot_fail_the_boot() {
    let nix = nix_or_skip!("bootstrap_runs_once_and_cannot_fail_the_boot");
    let got = nix.eval("defaults");
    let unit = &got["services"]["vaultkeeper-bootstrap"];
    assert_eq!(unit["wantedBy"], json!(["multi-user.target"]));
    assert_eq!(unit["wants"], json!(["network-online.target"]));
    // After cloud-init has written the token, before every fetch unit.
    assert_eq!(
        unit["after"],
        json!([
            "network-online.target",
            "cloud-init.service",
            "cloud-config.service"
        ])
    );
    assert_eq!(unit["before"], json!(["vault-secret-grafana.service"]));
    assert_eq!(unit["requires"], json!([]));
    assert_eq!(
        unit["unitConfig"],
        json!({ "ConditionPathExists": ["!/var/lib/vaultkeeper/approle/secret-id"] })
    );
    let late = unit["serviceConfig"]["ExecStartPost"].as_str().unwrap();
    assert!(
        late.starts_with("+/nix/store/") && late.ends_with("-vaultkeeper-late-start"),
        "{late}"
    );
    assert_eq!(
        unit["serviceConfig"],
        with(
            hardening(DEFAULT_RW),
            json!({
                "Type": "oneshot",
                // NixOS does not generate /etc/environment: it is cloud-init's
                // 0644 file, and the spent token's line goes.
                "ExecStart": exe("bootstrap --erase-token-from /etc/environment"),
                "ReadWritePaths": ["/var/lib/vaultkeeper", "/run/secrets", "-/etc/environment"],
                "ExecStartPost": late,
                "TimeoutStartSec": "2min",
                "ImportCredential": "vaultkeeper.wrapped-token",
                "EnvironmentFile": "-/etc/environment"
            })
        )
    );
    // A token arriving later starts it (the environment file changing).
    assert_eq!(
        got["paths"]["vaultkeeper-bootstrap"]["pathConfig"],
        json!({ "PathChanged": ["/etc/environment"] })
    );
    // Nothing may Require= (or BindsTo=) the bootstrap.
    for scenario in ["defaults", "contract", "full"] {
        let got = nix.eval(scenario);
        for (name, unit) in got["services"].as_object().unwrap() {
            assert!(
                !unit["requires"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("vaultkeeper-bootstrap.service")),
                "{scenario}: {name} requires the bootstrap"
            );
            assert!(
                unit.get("bindsTo").is_none(),
                "{scenario}: {name} binds to something"
            );
        }
    }
}

#[test]
fn bootstrap_strict_and_custom_environment_file() {
    let nix = nix_or_skip!("bootstrap_strict_and_custom_environment_file");
    let got = nix.eval("full");
    let unit = &got["services"]["vaultkeeper-bootstrap"];
    // After a successful unwrap the token is erased from the files it may be in.
    assert_eq!(
        unit["serviceConfig"]["ExecStart"],
        exe("bootstrap --strict --erase-token-from /run/credentials/wrapped-token --erase-token-from /run/cloud-init/vault.env")
    );
    assert_eq!(
        unit["serviceConfig"]["EnvironmentFile"],
        "-/run/cloud-init/vault.env"
    );
    assert_eq!(
        unit["unitConfig"]["ConditionPathExists"],
        json!(["!/var/lib/vk/creds/secret-id"])
    );
    assert_eq!(unit["serviceConfig"].get("LoadCredential"), None);
}

#[test]
fn bootstrap_token_file_is_a_credential_erased_after_use_and_watched() {
    let nix = nix_or_skip!("bootstrap_token_file_is_a_credential_erased_after_use_and_watched");
    let got = nix.eval("token-file");
    let unit = &got["services"]["vaultkeeper-bootstrap"];
    let sc = &unit["serviceConfig"];
    assert_eq!(
        sc["LoadCredential"],
        "vaultkeeper.wrapped-token:/var/lib/vaultkeeper/wrapped-token"
    );
    assert_eq!(sc["ImportCredential"], "vaultkeeper.wrapped-token");
    assert_eq!(
        sc["ExecStart"],
        exe("bootstrap --erase-token-from /var/lib/vaultkeeper/wrapped-token")
    );
    // It runs once the token is there (the .path unit starts it when it appears).
    assert_eq!(
        unit["unitConfig"],
        json!({
            "ConditionPathExists": ["!/var/lib/vaultkeeper/approle/secret-id"],
            "ConditionFileNotEmpty": "/var/lib/vaultkeeper/wrapped-token"
        })
    );
    assert_eq!(
        got["paths"]["vaultkeeper-bootstrap"],
        json!({
            "description": "vaultkeeper: start the bootstrap when a wrapped token arrives",
            "wantedBy": ["multi-user.target"],
            "pathConfig": { "PathChanged": ["/var/lib/vaultkeeper/wrapped-token"] }
        })
    );
    // The agent reads the same file when the credential is not there.
    assert_eq!(
        got["spec"]["approle"]["wrappedTokenFile"],
        "/var/lib/vaultkeeper/wrapped-token"
    );
    assert_eq!(
        sc["ReadWritePaths"],
        json!([
            "/var/lib/vaultkeeper",
            "/run/secrets",
            "-/var/lib/vaultkeeper/wrapped-token"
        ])
    );
}

#[test]
fn a_late_bootstrap_starts_failed_fetch_units_and_their_services() {
    let nix = nix_or_skip!("a_late_bootstrap_starts_failed_fetch_units_and_their_services");
    let got = nix.eval("full");
    let post = got["services"]["vaultkeeper-bootstrap"]["serviceConfig"]["ExecStartPost"]
        .as_str()
        .unwrap()
        .to_string();
    let script = got["lateStart"].as_str().unwrap();
    assert!(post.ends_with("-vaultkeeper-late-start"), "{post}");
    assert!(
        script.contains("[ -s /var/lib/vk/creds/secret-id ] || exit 0"),
        "{script}"
    );
    assert!(
        script.contains("late vault-secret-db.service postgresql.service pgbouncer.service\n"),
        "{script}"
    );
    assert!(
        script.contains("late vault-secret-slack.service\n"),
        "{script}"
    );
    assert!(script.contains("systemctl start --no-block"), "{script}");
}

#[test]
fn fetch_units_run_after_bootstrap_and_before_their_services() {
    let nix = nix_or_skip!("fetch_units_run_after_bootstrap_and_before_their_services");
    let got = nix.eval("contract");
    let unit = &got["services"]["vault-secret-grafana"];
    assert_eq!(unit["description"], "vaultkeeper: fetch secret grafana");
    assert_eq!(unit["wantedBy"], json!(["multi-user.target"]));
    assert_eq!(
        unit["wants"],
        json!(["network-online.target", "vaultkeeper-bootstrap.service"])
    );
    assert_eq!(
        unit["after"],
        json!(["network-online.target", "vaultkeeper-bootstrap.service"])
    );
    assert_eq!(unit["before"], json!(["grafana.service"]));
    assert_eq!(unit["requires"], json!([]));
    assert_eq!(
        unit["serviceConfig"],
        with(
            hardening(DEFAULT_RW),
            json!({
                "Type": "oneshot",
                "RemainAfterExit": true,
                "ExecStart": exe("fetch --boot grafana"),
                "TimeoutStartSec": "2min"
            })
        )
    );
    // A switch never restarts it (a new package, a changed secret): the daemon's
    // reload restarts the services of a changed secret, once.
    assert_eq!(unit["restartIfChanged"], false);
    assert_eq!(unit["restartTriggers"], json!([]));
    // The consumer.
    let grafana = &got["services"]["grafana"];
    assert_eq!(grafana["requires"], json!(["vault-secret-grafana.service"]));
    assert_eq!(grafana["after"], json!(["vault-secret-grafana.service"]));
}

#[test]
fn consumers_keep_their_own_ordering_and_accept_unit_suffixes() {
    let nix = nix_or_skip!("consumers_keep_their_own_ordering_and_accept_unit_suffixes");
    let got = nix.eval("full");
    let s = &got["services"];
    assert_eq!(
        s["vault-secret-db"]["before"],
        json!(["postgresql.service", "pgbouncer.service"])
    );
    assert_eq!(s["vault-secret-slack"]["before"], json!([]));
    assert_eq!(
        s["postgresql"]["requires"],
        json!(["vault-secret-db.service"])
    );
    assert_eq!(s["postgresql"]["after"], json!(["vault-secret-db.service"]));
    // pgbouncer's own After= (from the scenario) merges with ours.
    let mut after: Vec<String> = serde_json::from_value(s["pgbouncer"]["after"].clone()).unwrap();
    after.sort();
    assert_eq!(after, ["network.target", "vault-secret-db.service"]);
}

#[test]
fn daemon_is_notify_with_watchdog_and_hardened() {
    let nix = nix_or_skip!("daemon_is_notify_with_watchdog_and_hardened");
    let got = nix.eval("contract");
    let unit = &got["services"]["vaultkeeper"];
    assert_eq!(unit["wantedBy"], json!(["multi-user.target"]));
    assert_eq!(unit["wants"], json!(["network-online.target"]));
    assert_eq!(
        unit["after"],
        json!([
            "network-online.target",
            "vaultkeeper-bootstrap.service",
            "vault-secret-grafana.service"
        ])
    );
    assert_eq!(unit["requires"], json!([]));
    let spec_path = format!(
        "/nix/store/{}-vaultkeeper-spec.json",
        &sha256_hex(got["specFile"]["text"].as_str().unwrap())[..32]
    );
    // A new spec reloads the daemon (SIGHUP) instead of restarting it.
    assert_eq!(unit["reloadTriggers"], json!([spec_path]));
    assert_eq!(unit["restartTriggers"], json!([]));
    assert_eq!(
        unit["serviceConfig"],
        with(
            hardening(DEFAULT_RW),
            json!({
                "Type": "notify",
                "NotifyAccess": "main",
                "ExecStart": exe("run"),
                "ExecReload": format!("/nix/store/{}-coreutils/bin/kill -HUP $MAINPID", &sha256_hex("coreutils")[..32]),
                "Restart": "on-failure",
                "RestartSec": "5s",
                "WatchdogSec": "60s",
                "RuntimeDirectory": "vaultkeeper",
                "RuntimeDirectoryMode": "0700"
            })
        )
    );
}

#[test]
fn writable_paths_are_minimal_and_cover_every_output() {
    let nix = nix_or_skip!("writable_paths_are_minimal_and_cover_every_output");
    let got = nix.eval("full");
    let rw = json!([
        "/var/lib/vk",
        "/var/cache/vk/db",
        "/run/keys",
        "/run/secrets"
    ]);
    for unit in ["vault-secret-db", "vault-secret-slack"] {
        assert_eq!(
            got["services"][unit]["serviceConfig"]["ReadWritePaths"], rw,
            "{unit}"
        );
    }
    // The bootstrap also writes the files it erases the spent token from.
    let mut boot = rw.as_array().unwrap().clone();
    boot.extend([
        json!("-/run/credentials/wrapped-token"),
        json!("-/run/cloud-init/vault.env"),
    ]);
    assert_eq!(
        got["services"]["vaultkeeper-bootstrap"]["serviceConfig"]["ReadWritePaths"],
        json!(boot)
    );
    // The daemon also gets the directory of a unix audit socket outside its
    // RuntimeDirectory (optional: the listener creates the socket, not the directory).
    assert_eq!(
        got["services"]["vaultkeeper"]["serviceConfig"]["ReadWritePaths"],
        json!([
            "/var/lib/vk",
            "/var/cache/vk/db",
            "/run/keys",
            "/run/secrets",
            "-/run/audit"
        ])
    );
}

#[test]
fn tmpfiles_create_state_cache_and_output_parents() {
    let nix = nix_or_skip!("tmpfiles_create_state_cache_and_output_parents");
    assert_eq!(
        nix.eval("defaults")["tmpfiles"],
        json!([
            "d /var/lib/vaultkeeper 0700 root root -",
            "d /var/lib/vaultkeeper/cache/grafana 0700 root root -",
            "d /var/lib/vaultkeeper/approle 0700 root root -",
            "d /run/secrets 0751 root root -"
        ])
    );
    assert_eq!(
        nix.eval("full")["tmpfiles"],
        json!([
            "d /var/lib/vk 0700 root root -",
            "d /var/cache/vk/db 0700 root root -",
            "d /var/lib/vk/cache/slack 0700 root root -",
            "d /var/lib/vk/creds 0700 root root -",
            // No line for /run/keys (outputDir /run/keys/db): nixpkgs owns it
            // (0750 root:keys), a line of ours would fight over its mode.
            "d /run/secrets 0751 root root -",
            // The directory of the audit socket outside /run/vaultkeeper.
            "d /run/audit 0750 root root -"
        ])
    );
    // A parent outside /run may be someone else's: created if missing, never chowned.
    assert_eq!(
        nix.eval("outside-run")["tmpfiles"][3],
        json!("d /var/lib/grafana - - - -")
    );
}

/// nix/tests/pkgs.nix names fake store paths after the sha256 of their text.
fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[test]
fn the_vm_test_boots_with_the_token_in_place_and_evaluates_cleanly() {
    let nix = nix_or_skip!("the_vm_test_boots_with_the_token_in_place_and_evaluates_cleanly");
    let lib = nix.lib().display().to_string();
    let got = nix.eval_expr(&format!(
        "import ./nix/tests/vm-test-nodes.nix {{ nixpkgsLib = {lib}; }}"
    ));
    let m = &got["machine"];
    assert_eq!(m["failedAssertions"], json!([]));
    assert_eq!(m["warnings"], json!([]));
    assert_eq!(got["vault"]["failedAssertions"], json!([]));
    assert!(
        got["vault"]["systemPackages"]
            .as_array()
            .unwrap()
            .contains(&json!("vaultkeeper-0.1.0")),
        "the vault node runs `vaultkeeper provision`: {}",
        got["vault"]["systemPackages"]
    );
    // The consumer reads the secret through keyPaths; group from users.users.
    assert!(m["services"]["demo"]["serviceConfig"]["ExecStart"]
        .as_str()
        .unwrap()
        .contains("cat /run/secrets/demo/password >"));
    assert_eq!(m["spec"]["secrets"]["demo"]["group"], "demo");
    assert_eq!(
        m["services"]["vaultkeeper-bootstrap"]["serviceConfig"]["LoadCredential"],
        "vaultkeeper.wrapped-token:/var/lib/vaultkeeper/wrapped-token"
    );
    // The token is written before the boot that bootstraps, and nothing is
    // restarted by hand: no `restart vaultkeeper-bootstrap` in the script.
    let script = got["testScript"].as_str().unwrap();
    let written = script
        .find("/var/lib/vaultkeeper/wrapped-token <<<")
        .unwrap();
    let off = script.find("machine.shutdown()").unwrap();
    let boot = script.rfind("machine.start()").unwrap();
    assert!(written < off && off < boot, "{script}");
    assert!(
        !script.contains("restart vaultkeeper-bootstrap"),
        "{script}"
    );
    assert!(!script.contains("systemctl restart demo"), "{script}");
}
