//! End to end on a real systemd: the units the NixOS module evaluates to
//! (nix/tests/scenarios/container.nix and its next build container-v2.nix),
//! rendered to unit files, with the real binary and a real OpenBao.
//!
//! - First boot with the wrapped token already in the token file (as cloud-init
//!   leaves it): bootstrap, then the fetches, then the consumers, which find
//!   their secrets with the right owner and mode; the spent token is erased.
//!   Second boot with OpenBao down: no bootstrap, secrets from the cache.
//! - A token that arrives after boot: the fetch units failed for want of
//!   credentials; the bootstrap starts when the token appears and starts them
//!   and their consumers.
//! - A switch to a build with a new package and one changed secret, applied the
//!   way switch-to-configuration applies it (tests/support/switch.rs): no fetch
//!   unit restarts, the changed secret's consumer restarts exactly once, the
//!   critical consumer and the other secret's consumer not at all (restarts
//!   counted by InvocationID).
//!
//! - A host migrated from the seed design's module: its AppRole credentials in
//!   /var/lib/vault/approle and no token. The first boot adopts them (copied,
//!   originals kept), skips the bootstrap, fetches, and the consumers start,
//!   a `DynamicUser=` one with its secret from `$CREDENTIALS_DIRECTORY`
//!   (`credentialFor` → `LoadCredential=`).
//!
//! - The seed's cloud-init: the token appended to /etc/environment (0644)
//!   before the first boot. Bootstrap reads it through `EnvironmentFile=` and,
//!   inside its `ProtectSystem=strict` sandbox, removes that line and keeps
//!   the others.
//!
//! Also measures `systemd-analyze security` of the daemon's unit.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

#[path = "support/container.rs"]
mod container;
#[path = "support/loud.rs"]
mod loud;
#[path = "support/nix_eval.rs"]
mod nix_eval;
mod support;
#[path = "support/switch.rs"]
mod switch;
#[path = "support/units.rs"]
mod units;

use container::{Container, Disk};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::bao::Bao;
use support::logged::assert_logged;
use support::run::{register_secret, secret, vaultkeeper};

const TOKEN_FILE: &str = "/var/lib/vaultkeeper/wrapped-token";
const CONSUMERS: [&str; 3] = ["demo", "crit", "other"];
const FETCH: [&str; 2] = ["vault-secret-demo", "vault-secret-other"];

fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// One build of the system: unit files and the other files it puts on disk.
struct Build {
    units: BTreeMap<String, String>,
    files: Vec<(String, String, u32)>,
    package: String,
}

fn build(eval: &Value, bao_addr: &str) -> Build {
    assert_eq!(eval["failedAssertions"], json!([]));
    let mut spec: Value = serde_json::from_str(eval["specFile"]["text"].as_str().unwrap()).unwrap();
    spec["vault"]["address"] = json!(bao_addr);
    let rules: String = eval["tmpfiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}\n", r.as_str().unwrap()))
        .collect();
    let services = eval["services"].as_object().unwrap();
    let late = services["vaultkeeper-bootstrap"]["serviceConfig"]["ExecStartPost"]
        .as_str()
        .unwrap()
        .trim_start_matches('+')
        .to_string();
    let reload = services["vaultkeeper"]["serviceConfig"]["ExecReload"]
        .as_str()
        .unwrap();
    let kill = reload.split_whitespace().next().unwrap().to_string();
    let adopt = services["vaultkeeper-adopt-credentials"]["serviceConfig"]["ExecStart"]
        .as_str()
        .unwrap()
        .to_string();
    let files = vec![
        (
            adopt,
            format!("#!/bin/bash\n{}", eval["adoptScript"].as_str().unwrap()),
            0o755,
        ),
        ("/etc/vaultkeeper/spec.json".into(), spec.to_string(), 0o644),
        ("/etc/tmpfiles.d/vaultkeeper.conf".into(), rules, 0o644),
        (
            late,
            format!("#!/bin/bash\n{}", eval["lateStart"].as_str().unwrap()),
            0o755,
        ),
        (kill, "#!/bin/sh\nexec /bin/kill \"$@\"\n".into(), 0o755),
    ];
    let mut units = BTreeMap::new();
    for (name, s) in services {
        units.insert(format!("{name}.service"), units::render(s));
    }
    for (name, p) in eval["paths"].as_object().unwrap() {
        units.insert(format!("{name}.path"), units::render_path(p));
    }
    Build {
        units,
        files,
        package: eval["vaultkeeperPath"].as_str().unwrap().to_string(),
    }
}

fn install_package(c: &Container, package: &str) {
    let dest = c.path(&format!("{package}/bin/vaultkeeper"));
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_vaultkeeper"), &dest).unwrap();
    std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// What nixos-install would leave on disk; `token` is put where cloud-init
/// writes it, before the first boot.
fn install(c: &Container, b: &Build, token: Option<&str>) {
    install_package(c, &b.package);
    for (path, text, mode) in &b.files {
        c.write(path, text, *mode);
    }
    for (name, text) in &b.units {
        c.write_unit(name, text);
    }
    if let Some(token) = token {
        c.write(TOKEN_FILE, &format!("{token}\n"), 0o600);
    }
    c.ok(&["useradd", "--system", "--no-create-home", "demo"]);
    c.daemon_reload();
    let mut enable = vec!["systemctl", "enable"];
    enable.extend(b.units.keys().map(String::as_str));
    c.ok(&enable);
}

/// One host across boots: its directory and its disk (the writable layer).
struct Machine {
    dir: tempfile::TempDir,
    disk: Disk,
}

impl Machine {
    /// Boot 0: the image is prepared (the build installed, the wrapped token
    /// in place when given) and `prepare` runs in it before it shuts down.
    fn prepared(
        rootfs: &Path,
        b: &Build,
        token: Option<&str>,
        prepare: impl FnOnce(&Container),
    ) -> Machine {
        let m = Machine {
            dir: tempfile::tempdir().unwrap(),
            disk: Disk::new(),
        };
        {
            let c = m.boot(rootfs);
            install(&c, b, token);
            prepare(&c);
        }
        m
    }

    /// The next boot of this host.
    fn boot(&self, rootfs: &Path) -> Container {
        Container::boot_on(rootfs, &self.disk, self.dir.path())
    }
}

/// What the seed's module left on a host: the role's credentials under
/// /var/lib/vault/approle.
fn write_seed_credentials(c: &Container, role_id: &str, secret_id: &str) {
    c.ok(&["install", "-d", "-m", "0700", "/var/lib/vault/approle"]);
    c.write(
        "/var/lib/vault/approle/role-id",
        &format!("{role_id}\n"),
        0o600,
    );
    c.write(
        "/var/lib/vault/approle/secret-id",
        &format!("{secret_id}\n"),
        0o600,
    );
}

fn journal(c: &Container, unit: &str) -> String {
    c.stdout(&["journalctl", "-b", "--no-pager", "-o", "cat", "-u", unit])
}

fn assert_active(c: &Container, unit: &str) {
    let state = c.show(&format!("{unit}.service"), "ActiveState");
    assert!(
        state == "active",
        "{unit} is {state}:\n{}\n{}",
        journal(c, &format!("{unit}.service")),
        c.stdout(&["namei", "-l", "/run/secrets/demo/password"])
    );
}

fn monotonic(c: &Container, unit: &str, prop: &str) -> u64 {
    c.show(&format!("{unit}.service"), prop).parse().unwrap()
}

fn starts(c: &Container, consumer: &str) -> Vec<String> {
    std::fs::read_to_string(c.path(&format!("/var/lib/{consumer}/starts")))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A dev OpenBao with the two secrets, and a wrapped token for host e2e.
fn vault() -> (Bao, String, String) {
    let bao = Bao::dev();
    let password = secret("e2e-password");
    bao.kv_put("hosts/e2e/demo", &json!({ "password": password }));
    bao.kv_put(
        "hosts/e2e/other",
        &json!({ "password": secret("e2e-other") }),
    );
    let r = vaultkeeper(
        &["provision", "--host", "e2e"],
        &[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", "root")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token = r.stdout.trim().to_string();
    register_secret(&token);
    (bao, password, token)
}

/// One container at a time: several systemd PID 1s setting up their units'
/// cgroups in the host's shared hierarchy at once fail now and then
/// (219/CGROUP); the guard is held for the whole test.
fn setup(test: &str) -> Option<(nix_eval::Nix, PathBuf, std::sync::MutexGuard<'static, ()>)> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let nix = nix_eval::Nix::find(test)?;
    let rootfs = container::rootfs_or_skip(test)?;
    Some((nix, rootfs, guard))
}

#[test]
fn module_units_boot_bootstrap_fetch_consumer_then_reboot_from_cache() {
    let Some((nix, rootfs, _one)) =
        setup("module_units_boot_bootstrap_fetch_consumer_then_reboot_from_cache")
    else {
        return;
    };
    let (mut bao, password, token) = vault();
    let b = build(&nix.eval("container"), &bao.addr);

    // Boot 0: the image is prepared, the token in place before the first boot.
    let m = Machine::prepared(&rootfs, &b, Some(&token), |_| {});

    // Boot 1: the host's first real boot.
    {
        let c = m.boot(&rootfs);
        say(&format!("e2e first boot: {} ms", c.boot_time.as_millis()));
        for unit in FETCH.iter().chain(&CONSUMERS).chain(&["vaultkeeper"]) {
            assert_active(&c, unit);
        }
        // The bootstrap ran (not RemainAfterExit: a later token may start it again).
        let boot = "vaultkeeper-bootstrap.service";
        assert_eq!(c.show(boot, "ConditionResult"), "yes");
        assert_eq!(c.show(boot, "Result"), "success", "{}", journal(&c, boot));
        assert_eq!(c.show(boot, "ExecMainStatus"), "0");
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
        // The spent token is erased from the file cloud-init wrote.
        assert_eq!(c.ok(&["stat", "-c", "%s %a", TOKEN_FILE]), "0 600");
        let log = journal(&c, boot);
        assert_logged(
            &log,
            &format!("erased the spent wrapped token from {TOKEN_FILE}"),
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
        // Each consumer started once.
        for consumer in CONSUMERS {
            assert_eq!(starts(&c, consumer).len(), 1, "{consumer}");
        }
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
        say(&format!(
            "systemd-analyze security vaultkeeper.service: {overall}"
        ));
        assert!(score <= 2.5, "exposure {score} got worse:\n{report}");
    }

    // Boot 2: OpenBao is down.
    bao.stop();
    {
        let c = m.boot(&rootfs);
        assert_eq!(
            c.show("vaultkeeper-bootstrap.service", "ConditionResult"),
            "no"
        );
        for unit in FETCH.iter().chain(&CONSUMERS) {
            assert_active(&c, unit);
        }
        assert_eq!(c.ok(&["cat", "/var/lib/demo/seen"]), password);
        assert_eq!(
            c.ok(&["stat", "-L", "-c", "%U:%G %a", "/run/secrets/demo/password"]),
            "demo:demo 440"
        );
    }
}

#[test]
fn a_token_arriving_after_boot_starts_the_failed_fetch_units_and_their_consumers() {
    let Some((nix, rootfs, _one)) =
        setup("a_token_arriving_after_boot_starts_the_failed_fetch_units_and_their_consumers")
    else {
        return;
    };
    let (_bao, password, token) = vault();
    let b = build(&nix.eval("container"), &_bao.addr);
    let m = Machine::prepared(&rootfs, &b, None, |_| {});
    let c = m.boot(&rootfs);
    // No token: the bootstrap did not run, the fetches failed for want of
    // credentials, the consumers that Require= them did not start.
    assert_eq!(
        c.show("vaultkeeper-bootstrap.service", "ConditionResult"),
        "no"
    );
    for unit in FETCH {
        assert_eq!(c.show(&format!("{unit}.service"), "ActiveState"), "failed");
    }
    for consumer in ["demo", "other"] {
        assert_ne!(
            c.show(&format!("{consumer}.service"), "ActiveState"),
            "active"
        );
        assert!(starts(&c, consumer).is_empty(), "{consumer}");
    }

    // The token arrives (cloud-init late, or an operator), written inside the
    // container as cloud-init would write it.
    c.write("/root/token.staging", &format!("{token}\n"), 0o600);
    c.ok(&["install", "-m", "0600", "/root/token.staging", TOKEN_FILE]);
    c.ok(&["rm", "/root/token.staging"]);
    let all_active = |c: &Container| {
        FETCH
            .iter()
            .chain(&CONSUMERS)
            .all(|u| c.show(&format!("{u}.service"), "ActiveState") == "active")
    };
    let start = std::time::Instant::now();
    while !all_active(&c) {
        if start.elapsed() > Duration::from_secs(60) {
            let states: Vec<String> = FETCH
                .iter()
                .chain(&CONSUMERS)
                .chain(&["vaultkeeper-bootstrap"])
                .map(|u| format!("{u}: {}", c.show(&format!("{u}.service"), "ActiveState")))
                .collect();
            panic!(
                "60 s after the token arrived: {states:?}\npath unit: {}\n{}\n{}",
                c.show("vaultkeeper-bootstrap.path", "ActiveState"),
                c.stdout(&[
                    "journalctl",
                    "-b",
                    "--no-pager",
                    "-u",
                    "vaultkeeper-bootstrap.service",
                    "-u",
                    "vaultkeeper-bootstrap.path",
                    "-u",
                    "vault-secret-demo.service",
                    "-u",
                    "demo.service"
                ]),
                c.stdout(&["ls", "-la", "/var/lib/vaultkeeper"]),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = journal(&c, "vaultkeeper-bootstrap.service");
    assert_logged(&log, "vault-secret-demo.service failed before this host had credentials: starting it again with demo.service crit.service");
    assert_eq!(c.ok(&["cat", "/var/lib/demo/seen"]), password);
    assert_eq!(c.ok(&["stat", "-c", "%s", TOKEN_FILE]), "0");
    assert_eq!(
        c.ok(&[
            "stat",
            "-L",
            "-c",
            "%U:%G %a",
            "/run/secrets/other/password"
        ]),
        "demo:demo 440"
    );
}

#[test]
fn a_switch_restarts_no_fetch_unit_and_a_changed_secrets_consumer_once() {
    let Some((nix, rootfs, _one)) =
        setup("a_switch_restarts_no_fetch_unit_and_a_changed_secrets_consumer_once")
    else {
        return;
    };
    let (_bao, _password, token) = vault();
    let v1 = build(&nix.eval("container"), &_bao.addr);
    let v2 = build(&nix.eval("container-v2"), &_bao.addr);
    assert_ne!(v1.package, v2.package, "the new build has a new package");
    let m = Machine::prepared(&rootfs, &v1, Some(&token), |_| {});
    let c = m.boot(&rootfs);
    for unit in FETCH.iter().chain(&CONSUMERS).chain(&["vaultkeeper"]) {
        assert_active(&c, unit);
    }
    let units: Vec<String> = FETCH
        .iter()
        .chain(&CONSUMERS)
        .chain(&["vaultkeeper"])
        .map(|u| format!("{u}.service"))
        .collect();
    let ids = |c: &Container| -> Vec<String> {
        units.iter().map(|u| c.show(u, "InvocationID")).collect()
    };
    let before = ids(&c);
    let starts_before: Vec<usize> = CONSUMERS.iter().map(|s| starts(&c, s).len()).collect();

    install_package(&c, &v2.package);
    let done = switch::switch(&c, &v1.units, &v2.units, &v2.files);
    // What switch-to-configuration did: the fetch units' files changed (new
    // package) but they say X-RestartIfChanged=false; the daemon restarted for
    // its new package; no consumer's unit changed.
    let mut left = done.left_running.clone();
    left.sort();
    assert_eq!(
        left,
        ["vault-secret-demo.service", "vault-secret-other.service"]
    );
    assert_eq!(done.restarted, ["vaultkeeper.service"]);
    assert!(
        done.stopped.is_empty() && done.started.is_empty(),
        "{done:?}"
    );

    // The daemon applies the changed secret (demo's mode), restarts demo once,
    // and only says that crit (critical) needs a restart.
    c.wait_for(
        "demo's restart for its changed secret",
        Duration::from_secs(60),
        |c| starts(c, "demo").len() > starts_before[0],
    );
    // Longer than three refresh intervals: no second restart comes.
    std::thread::sleep(Duration::from_secs(8));
    let after = ids(&c);
    let restarts: Vec<(String, usize)> = units
        .iter()
        .zip(before.iter().zip(&after))
        .map(|(u, (b, a))| {
            let name = u.trim_end_matches(".service");
            let n = match CONSUMERS.iter().position(|c| *c == name) {
                Some(i) => starts(&c, name).len() - starts_before[i],
                None => usize::from(b != a),
            };
            (name.to_string(), n)
        })
        .collect();
    say(&format!(
        "e2e switch (new package + demo's mode 0440 -> 0400), restarts counted by InvocationID: {}",
        restarts
            .iter()
            .map(|(u, n)| format!("{u} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let expect = [
        ("vault-secret-demo", 0),
        ("vault-secret-other", 0),
        ("demo", 1),
        ("crit", 0),
        ("other", 0),
        ("vaultkeeper", 1),
    ];
    let got: BTreeMap<&str, usize> = restarts.iter().map(|(u, n)| (u.as_str(), *n)).collect();
    for (unit, n) in expect {
        assert_eq!(
            got[unit],
            n,
            "restarts of {unit}: {restarts:?}\n{}",
            journal(&c, "vaultkeeper.service")
        );
    }
    // The change is applied: the new mode, and the critical consumer is named.
    assert_eq!(
        c.ok(&["stat", "-L", "-c", "%U:%G %a", "/run/secrets/demo/password"]),
        "demo:demo 400"
    );
    let log = journal(&c, "vaultkeeper.service");
    assert_logged(&log, "restart needed: crit.service uses secret demo");
    for consumer in CONSUMERS {
        assert_active(&c, consumer);
    }
}

#[test]
fn a_host_migrated_from_the_seed_module_adopts_its_credentials_and_feeds_a_dynamic_user() {
    let Some((nix, rootfs, _one)) = setup(
        "a_host_migrated_from_the_seed_module_adopts_its_credentials_and_feeds_a_dynamic_user",
    ) else {
        return;
    };
    let (bao, password, _token) = vault();
    // What the seed's module left on the host: the role's credentials.
    let (role_id, secret_id) = bao.approle("e2e");
    let b = build(&nix.eval("container-migrate"), &bao.addr);
    let m = Machine::prepared(&rootfs, &b, None, |c| {
        write_seed_credentials(c, &role_id, &secret_id)
    });
    let c = m.boot(&rootfs);
    let adopt = "vaultkeeper-adopt-credentials.service";
    assert_eq!(c.show(adopt, "Result"), "success", "{}", journal(&c, adopt));
    assert_eq!(c.show(adopt, "ExecMainStatus"), "0");
    // Bootstrapped by the adoption: the bootstrap's condition is false.
    assert_eq!(
        c.show("vaultkeeper-bootstrap.service", "ConditionResult"),
        "no"
    );
    assert!(
        monotonic(
            &c,
            "vaultkeeper-adopt-credentials",
            "ExecMainExitTimestampMonotonic"
        ) <= monotonic(&c, "vault-secret-demo", "ExecMainStartTimestampMonotonic")
    );
    for unit in FETCH
        .iter()
        .chain(&CONSUMERS)
        .chain(&["dyn", "vaultkeeper"])
    {
        assert_active(&c, unit);
    }
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
        c.ok(&["cat", "/var/lib/vaultkeeper/approle/secret-id"]),
        secret_id
    );
    // The originals stay.
    assert_eq!(
        c.ok(&["cat", "/var/lib/vault/approle/secret-id"]),
        secret_id
    );
    assert_eq!(c.ok(&["cat", "/var/lib/demo/seen"]), password);
    // The DynamicUser= service (a uid of systemd's dynamic range, no file
    // owner to give the secret to) read its private copy through
    // LoadCredential=, loaded by PID 1 from <outputDir>/password after the fetch.
    assert_eq!(c.ok(&["cat", "/var/lib/dyn/seen"]), password);
    let uid: u32 = c.ok(&["cat", "/var/lib/dyn/uid"]).parse().unwrap();
    assert!((61184..=65519).contains(&uid), "dynamic uid {uid}");
    assert!(
        monotonic(&c, "vault-secret-demo", "ExecMainExitTimestampMonotonic")
            <= monotonic(&c, "dyn", "ExecMainStartTimestampMonotonic")
    );
    say(&format!(
        "e2e migration: adopted in {} ms of boot",
        c.boot_time.as_millis()
    ));
}

#[test]
fn a_token_in_etc_environment_is_used_then_erased_keeping_the_other_lines() {
    let Some((nix, rootfs, _one)) =
        setup("a_token_in_etc_environment_is_used_then_erased_keeping_the_other_lines")
    else {
        return;
    };
    let (bao, password, token) = vault();
    let b = build(&nix.eval("container-envfile"), &bao.addr);
    let others = format!("LANG=C.UTF-8\nVAULT_ADDR={}\n", bao.addr);
    let m = Machine::prepared(&rootfs, &b, None, |c| {
        c.write(
            "/etc/environment",
            &format!(
                "LANG=C.UTF-8\nVAULT_WRAPPED_TOKEN={token}\nVAULT_ADDR={}\n",
                bao.addr
            ),
            0o644,
        );
    });
    let c = m.boot(&rootfs);
    let boot = "vaultkeeper-bootstrap.service";
    assert_eq!(c.show(boot, "Result"), "success", "{}", journal(&c, boot));
    for unit in FETCH.iter().chain(&CONSUMERS) {
        assert_active(&c, unit);
    }
    assert_eq!(c.ok(&["cat", "/var/lib/demo/seen"]), password);
    // The token's line is gone, every other line and the file's mode stay.
    assert_eq!(
        std::fs::read_to_string(c.path("/etc/environment")).unwrap(),
        others
    );
    assert_eq!(c.ok(&["stat", "-c", "%a", "/etc/environment"]), "644");
    let log = journal(&c, boot);
    assert_logged(&log, "erased the spent wrapped token from /etc/environment");
}

/// The seed's configuration as is (no vault.address) on a host migrated from
/// the seed's module: the credentials are adopted, the bootstrap unit (whose
/// condition runs it while the address is not pinned) pins the VAULT_ADDR of
/// /etc/environment, the fetch units and consumers start on that first boot.
/// Next boot, /etc/environment names another server: it hears nothing.
#[test]
fn a_seed_config_without_address_pins_vault_addr_on_the_adopted_host() {
    let Some((nix, rootfs, _one)) =
        setup("a_seed_config_without_address_pins_vault_addr_on_the_adopted_host")
    else {
        return;
    };
    let (bao, password, _token) = vault();
    let (role_id, secret_id) = bao.approle("e2e");
    let eval = nix.eval("container-migrate-seed");
    assert_eq!(
        eval["warnings"].as_array().unwrap().len(),
        1,
        "{}",
        eval["warnings"]
    );
    let mut b = build(&eval, &bao.addr);
    // Keep the spec as the module wrote it: no address.
    let spec_text = eval["specFile"]["text"].as_str().unwrap().to_string();
    assert!(
        spec_text.contains("\"addressFrom\":\"firstBoot\""),
        "{spec_text}"
    );
    for f in &mut b.files {
        if f.0 == "/etc/vaultkeeper/spec.json" {
            f.1 = spec_text.clone();
        }
    }
    let m = Machine::prepared(&rootfs, &b, None, |c| {
        write_seed_credentials(c, &role_id, &secret_id);
        // What the seed's cloud-init wrote (its token long spent).
        c.write(
            "/etc/environment",
            &format!("LANG=C.UTF-8\nVAULT_ADDR={}\n", bao.addr),
            0o644,
        );
    });
    {
        let c = m.boot(&rootfs);
        let adopt = "vaultkeeper-adopt-credentials.service";
        assert_eq!(c.show(adopt, "Result"), "success", "{}", journal(&c, adopt));
        let boot = "vaultkeeper-bootstrap.service";
        assert_eq!(c.show(boot, "ConditionResult"), "yes");
        assert_eq!(c.show(boot, "Result"), "success", "{}", journal(&c, boot));
        assert!(
            monotonic(
                &c,
                "vaultkeeper-bootstrap",
                "ExecMainExitTimestampMonotonic"
            ) <= monotonic(&c, "vault-secret-demo", "ExecMainStartTimestampMonotonic")
        );
        assert_eq!(
            c.ok(&["cat", "/var/lib/vaultkeeper/vault-address"]),
            bao.addr
        );
        assert_eq!(
            c.ok(&["stat", "-c", "%U %a", "/var/lib/vaultkeeper/vault-address"]),
            "root 600"
        );
        let log = journal(&c, boot);
        assert_logged(&log, &format!("PINNED {}", bao.addr));
        for unit in FETCH
            .iter()
            .chain(&CONSUMERS)
            .chain(&["dyn", "vaultkeeper"])
        {
            assert_active(&c, unit);
        }
        assert_eq!(c.ok(&["cat", "/var/lib/dyn/seen"]), password);
    }
    // Someone rewrites /etc/environment: the next boot ignores it.
    let elsewhere = support::fake::Fake::http(|_| support::fake::Reply::Empty(200));
    {
        let c = m.boot(&rootfs);
        c.write(
            "/etc/environment",
            &format!("LANG=C.UTF-8\nVAULT_ADDR={}\n", elsewhere.addr),
            0o644,
        );
        for unit in FETCH.iter().chain(&CONSUMERS) {
            assert_active(&c, unit);
        }
        // An operator's shell with that environment: ignored, said so.
        let out = c.stdout(&[
            "sh",
            "-c",
            &format!(
                "set -a; . /etc/environment; {}/bin/vaultkeeper fetch 2>&1; echo exit=$?",
                b.package
            ),
        ]);
        assert!(out.contains("exit=0"), "{out}");
        assert!(
            out.contains("is IGNORED: this host's Vault address was pinned at the first boot"),
            "{out}"
        );
        assert_eq!(
            c.show("vaultkeeper-bootstrap.service", "ConditionResult"),
            "no"
        );
        assert_eq!(
            c.ok(&["cat", "/var/lib/vaultkeeper/vault-address"]),
            bao.addr
        );
    }
    assert_eq!(elsewhere.connections(), 0);
}
