//! Templates under a real systemd (Debian 252 as PID 1, tests/support/container.rs)
//! with a real OpenBao on the host's loopback:
//!
//! - an `envFrom` file whose values hold a space, `"`, `'`, `\`, `$`, `=`, a
//!   backtick, a tab and newlines is read by a unit's `EnvironmentFile=`, and
//!   the unit writes `$VAR` back to a file: byte for byte the value in OpenBao;
//! - the daemon starting renders nothing new and restarts nothing;
//! - one secret changed → the template re-rendered and its service restarted
//!   once (one new InvocationID), although the secret lists the same service;
//! - two secrets of the template changed while the daemon was stopped → one
//!   render, one restart;
//! - a key missing from a `content` template → its previous version kept, a
//!   clear error in the journal; the file deleted → rendered again, no restart;
//! - no secret value in the journal.
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
use support::run::{assert_no_secret_in, keep_log, register_secret, secret};
use support::wait::wait_until;

const DAEMON_UNIT: &str = "[Unit]
Description=vaultkeeper daemon

[Service]
Type=notify
ExecStart=/host/vaultkeeper --spec /host/spec.json run
ExecReload=/bin/kill -HUP $MAINPID
TimeoutStopSec=3s
Environment=VAULTKEEPER_LOG=info
";

fn oneshot(unit: &str, name: &str, after: &[&str]) -> String {
    let after: String = after.iter().map(|u| format!(" {u}")).collect();
    format!(
        "[Unit]
Description=vaultkeeper: {unit} {name}
Wants={after}
After={after}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/host/vaultkeeper --spec /host/spec.json fetch {name}
"
    )
}

/// What the NixOS module makes of a service using template app.env: Requires=
/// and After= its template unit, and `EnvironmentFile=` pointing at the file.
/// `$$VAR` is systemd's escape for a literal `$VAR`, expanded by the shell.
const APP_UNIT: &str = "[Unit]
Requires=vault-template-app.env.service
After=vault-template-app.env.service

[Service]
EnvironmentFile=/run/secrets/rendered/app.env
ExecStart=/bin/sh -c 'printf %%s \"$$DB_PASSWORD\" > /run/saw-password; printf %%s \"$$API_TOKEN\" > /run/saw-token; exec sleep infinity'
";

#[test]
fn environment_files_read_back_by_systemd_and_one_restart_per_change() {
    let test = "environment_files_read_back_by_systemd_and_one_restart_per_change";
    let Some(rootfs) = container::rootfs_or_skip(test) else {
        return;
    };
    let bao = Bao::dev();
    let hostile = format!(
        "  {} with space \"double\" 'single' back\\slash \\\" $HOME ${{HOME}} $$ `id` a=b==c\ttab\nsecond line\n\nlast \\\n",
        secret("hostile")
    );
    register_secret(&hostile);
    let token = secret("token");
    let conf_key = secret("conf");
    bao.kv_put("hosts/web01/db", &json!({ "DB_PASSWORD": hostile }));
    bao.kv_put(
        "hosts/web01/api",
        &json!({ "API_TOKEN": token, "CONF": conf_key }),
    );
    let (role_id, secret_id) = bao.approle("web01");

    let hostdir = tempfile::tempdir().unwrap();
    std::fs::copy(support::run::bin(), hostdir.path().join("vaultkeeper")).unwrap();
    let spec = json!({
        "vault": {"address": bao.addr, "timeout": "2s"},
        "stateDir": "/var/lib/vaultkeeper",
        "refreshInterval": "1s",
        "secrets": {
            "db": {"secretPath": "hosts/web01/db", "services": ["app"]},
            "api": {"secretPath": "hosts/web01/api"}
        },
        "templates": {
            "app.env": {"envFrom": ["db", "api"], "services": ["app"], "mode": "0400"},
            "app.conf": {"content": "conf = {{ api.CONF }}\n"}
        }
    });
    std::fs::write(
        hostdir.path().join("spec.json"),
        serde_json::to_string_pretty(&spec).unwrap(),
    )
    .unwrap();

    let c = Container::boot(&rootfs, hostdir.path());
    c.write("/var/lib/vaultkeeper/approle/role-id", &role_id, 0o600);
    c.write("/var/lib/vaultkeeper/approle/secret-id", &secret_id, 0o600);
    c.write_unit("vault-secret-db.service", &oneshot("secret", "db", &[]));
    c.write_unit("vault-secret-api.service", &oneshot("secret", "api", &[]));
    c.write_unit(
        "vault-template-app.env.service",
        &oneshot(
            "template",
            "app.env",
            &["vault-secret-db.service", "vault-secret-api.service"],
        ),
    );
    c.write_unit(
        "vault-template-app.conf.service",
        &oneshot("template", "app.conf", &["vault-secret-api.service"]),
    );
    c.write_unit("vaultkeeper.service", DAEMON_UNIT);
    c.write_unit("app.service", APP_UNIT);
    c.daemon_reload();
    let journal =
        |c: &Container| c.stdout(&["journalctl", "-u", "vaultkeeper", "--no-pager", "-o", "cat"]);
    let saw = |c: &Container, f: &str| std::fs::read(c.path(&format!("/run/{f}"))).ok();
    let conf =
        |c: &Container| std::fs::read_to_string(c.path("/run/secrets/rendered/app.conf")).unwrap();
    let restarts = |c: &Container| {
        journal(c)
            .matches("systemctl try-restart app.service: done")
            .count()
    };

    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // The service starts after its template unit and reads the values back exactly.
        c.ok(&[
            "systemctl",
            "start",
            "app.service",
            "vault-template-app.conf.service",
        ]);
        wait_until("the service's copies", Duration::from_secs(10), || {
            saw(&c, "saw-token").is_some()
        });
        assert_eq!(saw(&c, "saw-password").unwrap(), hostile.as_bytes());
        assert_eq!(saw(&c, "saw-token").unwrap(), token.as_bytes());
        assert_eq!(
            c.ok(&["stat", "-c", "%U:%G %a", "/run/secrets/rendered/app.env"]),
            "root:root 400"
        );
        assert_eq!(conf(&c), format!("conf = {conf_key}\n"));

        // The daemon starts: everything is current, nothing is restarted.
        let app_id = c.show("app.service", "InvocationID");
        c.ok(&["systemctl", "start", "vaultkeeper.service"]);
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(c.show("app.service", "InvocationID"), app_id);
        assert_eq!(restarts(&c), 0, "{}", journal(&c));

        // One secret changes: one render, one restart.
        let token2 = secret("token2");
        bao.kv_put(
            "hosts/web01/api",
            &json!({ "API_TOKEN": token2, "CONF": conf_key }),
        );
        wait_until("the service restarted", Duration::from_secs(10), || {
            c.show("app.service", "InvocationID") != app_id
        });
        wait_until("the service saw token2", Duration::from_secs(5), || {
            saw(&c, "saw-token").as_deref() == Some(token2.as_bytes())
        });
        let hostile2 = format!("{hostile}2");
        register_secret(&hostile2);
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(restarts(&c), 1, "{}", journal(&c));
        assert!(journal(&c).contains("template app.env: rendered /run/secrets/rendered/app.env"));

        // Two of its secrets change while the daemon is stopped: on start, one
        // pass sees both, one render, one restart (db's own services= included).
        c.ok(&["systemctl", "stop", "vaultkeeper.service"]);
        let app_id = c.show("app.service", "InvocationID");
        bao.kv_put("hosts/web01/db", &json!({ "DB_PASSWORD": hostile2 }));
        let token3 = secret("token3");
        bao.kv_put(
            "hosts/web01/api",
            &json!({ "API_TOKEN": token3, "CONF": conf_key }),
        );
        let before = restarts(&c);
        c.ok(&["systemctl", "start", "vaultkeeper.service"]);
        wait_until("the service saw both", Duration::from_secs(10), || {
            saw(&c, "saw-token").as_deref() == Some(token3.as_bytes())
                && saw(&c, "saw-password").as_deref() == Some(hostile2.as_bytes())
        });
        std::thread::sleep(Duration::from_secs(3));
        assert_ne!(c.show("app.service", "InvocationID"), app_id);
        assert_eq!(restarts(&c) - before, 1, "{}", journal(&c));

        // A key the content template needs is removed: its previous version stays.
        let token4 = secret("token4");
        bao.kv_put("hosts/web01/api", &json!({ "API_TOKEN": token4 }));
        wait_until("the missing key reported", Duration::from_secs(10), || {
            journal(&c).contains("template app.conf: {{ api.CONF }}: secret api has no key \"CONF\" (its keys: \"API_TOKEN\"); nothing was written, the previous version at /run/secrets/rendered/app.conf is kept")
        });
        assert_eq!(conf(&c), format!("conf = {conf_key}\n"));
        wait_until("the service saw token4", Duration::from_secs(10), || {
            saw(&c, "saw-token").as_deref() == Some(token4.as_bytes())
        });

        // Self-healing: the file deleted → rendered again, nothing restarted.
        std::thread::sleep(Duration::from_secs(2));
        let app_id = c.show("app.service", "InvocationID");
        let count = restarts(&c);
        std::fs::remove_file(c.path("/run/secrets/rendered/app.env")).unwrap();
        wait_until("app.env restored", Duration::from_secs(5), || {
            c.path("/run/secrets/rendered/app.env").exists()
        });
        assert!(journal(&c).contains("template app.env: its file /run/secrets/rendered/app.env was deleted or modified by someone else"));
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(c.show("app.service", "InvocationID"), app_id);
        assert_eq!(restarts(&c), count);

        // A spec change (the daemon reloads on inotify): the template whose
        // settings changed is rendered again and its service restarted once.
        let mut spec2 = spec.clone();
        spec2["templates"]["app.env"]["mode"] = json!("0440");
        std::fs::write(
            hostdir.path().join("spec.json"),
            serde_json::to_string_pretty(&spec2).unwrap(),
        )
        .unwrap();
        wait_until("the new mode", Duration::from_secs(10), || {
            c.ok(&["stat", "-c", "%a", "/run/secrets/rendered/app.env"]) == "440"
        });
        wait_until("the service restarted", Duration::from_secs(10), || {
            c.show("app.service", "InvocationID") != app_id
        });
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(restarts(&c), count + 1, "{}", journal(&c));
    }));
    let j = c.stdout(&["journalctl", "--no-pager", "-o", "cat"]);
    keep_log("container-journal", &j);
    assert_no_secret_in(&j, "the container's journal");
    drop(c);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
