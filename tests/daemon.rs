//! `vaultkeeper run` against a real OpenBao, with a fake `$NOTIFY_SOCKET` (a unix
//! datagram socket the test binds) to read exactly what the daemon tells systemd.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::{json, Value};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::bao::Bao;
use support::daemon::Daemon;
use support::logged::{assert_logged, assert_not_logged};
use support::notify::NotifySocket;
use support::run::{assert_no_secret_in, secret};
use support::spec::Host;
use support::wait::wait_until;

/// A dev OpenBao with a file audit device: (its directory, the audit log, the server).
fn bao_with_file_audit() -> (tempfile::TempDir, PathBuf, Bao) {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let bao = Bao::dev_with_config(&format!(
        "audit \"file\" \"local\" {{ options = {{ file_path = \"{}\" }} }}\n",
        audit.display()
    ));
    (dir, audit, bao)
}

/// The daemon on `host`'s spec, with a notify socket in the host's directory.
fn start_daemon(host: &Host) -> (NotifySocket, Daemon) {
    let notify = NotifySocket::bind(host.root.path());
    let d = Daemon::start_with_notify(&host.etc_spec(), &notify.path, &[]);
    (notify, d)
}

/// A host with AppRole credentials for `role` and the daemon tests' spec.
fn daemon_host(bao: &Bao, role: &str, extra: Value) -> Host {
    let (role_id, secret_id) = bao.approle(role);
    daemon_host_with(bao, &role_id, &secret_id, extra)
}

/// A host with these AppRole credentials and the daemon tests' spec.
fn daemon_host_with(bao: &Bao, role_id: &str, secret_id: &str, extra: Value) -> Host {
    let host = Host::new();
    host.write_credentials(role_id, secret_id);
    write_daemon_spec(&host, bao, extra);
    host
}

/// The daemon tests' spec (2 s Vault timeout, 1 s refresh) with `extra`'s
/// top-level keys, replacing `etc/spec.json` as NixOS does.
fn write_daemon_spec(host: &Host, bao: &Bao, extra: Value) {
    let mut spec = json!({
        "vault": {"address": bao.addr, "timeout": "2s"},
        "stateDir": host.state_dir(),
        "refreshInterval": "1s",
    });
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    host.replace_spec(&spec);
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn status_of(msg: &str) -> &str {
    msg.lines()
        .find_map(|l| l.strip_prefix("STATUS="))
        .unwrap_or_default()
}

#[test]
fn ready_status_watchdog_change_selfheal_reload_and_stop() {
    let bao = Bao::dev();
    let (pw1, pw2, key) = (secret("pw1"), secret("pw2"), secret("key"));
    bao.kv_put("hosts/web01/app", &json!({"password": pw1}));
    bao.kv_put("hosts/web01/tls", &json!({"key": key}));
    let host = daemon_host(&bao, "web01", json!({}));
    let secrets = json!({
        "app": host.secret_entry("app", "hosts/web01/app"),
        "tls": host.secret_entry("tls", "hosts/web01/tls"),
    });
    write_daemon_spec(&host, &bao, json!({"secrets": secrets.clone()}));
    let mut notify = NotifySocket::bind(host.root.path());
    let mut d = Daemon::start_with_notify(
        &host.etc_spec(),
        &notify.path,
        &[("WATCHDOG_USEC", "600000")],
    );

    // READY=1 only once the files exist, with an honest STATUS.
    let ready = notify.wait_ready(Duration::from_secs(20));
    assert_eq!(read(&host.out("app").join("password")), pw1);
    assert_eq!(read(&host.out("tls").join("key")), key);
    assert_eq!(ready, "READY=1\nSTATUS=2 secrets fresh, token ttl 59m");
    assert_eq!(notify.seen[0], "STATUS=starting: rendering secrets");

    // WATCHDOG=1 every WATCHDOG_USEC/2 = 300ms: at least 5 in 2.5s.
    let t0 = Instant::now();
    notify.drain();
    std::thread::sleep(Duration::from_millis(2500));
    notify.drain();
    let pings = notify.seen.iter().filter(|m| *m == "WATCHDOG=1").count();
    assert!(
        pings >= 5,
        "{pings} pings in {:?}: {:?}",
        t0.elapsed(),
        notify.seen
    );

    // Unchanged for several refresh cycles: same generation, same inode, same mtime.
    let gen_before = std::fs::read_link(host.out("tls")).unwrap();
    let meta_before = std::fs::metadata(host.out("tls").join("key")).unwrap();

    // A change in OpenBao: rendered within the refresh interval (1s, plus the request).
    bao.kv_put("hosts/web01/app", &json!({"password": pw2}));
    let changed = Instant::now();
    wait_until("the new password on disk", Duration::from_secs(5), || {
        std::fs::read_to_string(host.out("app").join("password"))
            .ok()
            .as_deref()
            == Some(pw2.as_str())
    });
    assert!(
        changed.elapsed() < Duration::from_millis(2500),
        "{:?}",
        changed.elapsed()
    );
    d.wait_log(
        "secret app: changed from Vault (version 2)",
        Duration::from_secs(2),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(std::fs::read_link(host.out("tls")).unwrap(), gen_before);
    let meta_after = std::fs::metadata(host.out("tls").join("key")).unwrap();
    assert_eq!(
        (
            meta_after.ino(),
            meta_after.mtime(),
            meta_after.mtime_nsec()
        ),
        (
            meta_before.ino(),
            meta_before.mtime(),
            meta_before.mtime_nsec()
        )
    );

    // Self-healing: a deleted file comes back, with a warning.
    std::fs::remove_file(host.out("tls").join("key")).unwrap();
    wait_until("tls/key restored", Duration::from_secs(5), || {
        host.out("tls").join("key").exists()
    });
    assert_eq!(read(&host.out("tls").join("key")), key);
    d.wait_log("secret tls: its files at", Duration::from_secs(2));
    assert!(d
        .log_text()
        .contains("were deleted or modified by someone else"));
    // ... and so does a file modified in place.
    let f = host.out("app").join("password");
    let mut perms = std::fs::metadata(&f).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&f, perms).unwrap();
    std::fs::write(&f, "tampered").unwrap();
    wait_until("app/password restored", Duration::from_secs(5), || {
        std::fs::read_to_string(host.out("app").join("password"))
            .ok()
            .as_deref()
            == Some(pw2.as_str())
    });

    // ... and so does the outputDir symlink itself.
    std::fs::remove_file(host.out("tls")).unwrap();
    wait_until("the tls symlink restored", Duration::from_secs(5), || {
        std::fs::read_to_string(host.out("tls").join("key"))
            .ok()
            .as_deref()
            == Some(key.as_str())
    });
    assert!(std::fs::symlink_metadata(host.out("tls"))
        .unwrap()
        .file_type()
        .is_symlink());

    // SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1; nothing re-rendered.
    let gen_app = std::fs::read_link(host.out("app")).unwrap();
    let gen_tls = std::fs::read_link(host.out("tls")).unwrap();
    notify.seen.clear();
    d.signal("HUP");
    let reloading = notify.wait_for("RELOADING=1", Duration::from_secs(5), |m| {
        m.starts_with("RELOADING=1")
    });
    let usec: u64 = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .expect("MONOTONIC_USEC")
        .parse()
        .unwrap();
    let now = vaultkeeper::monotonic_usec();
    assert!(usec <= now && now - usec < 5_000_000, "{usec} vs {now}");
    let ready = notify.wait_for("READY=1 after reload", Duration::from_secs(5), |m| {
        m.starts_with("READY=1")
    });
    assert_eq!(status_of(&ready), "2 secrets fresh, token ttl 59m");
    assert_eq!(std::fs::read_link(host.out("app")).unwrap(), gen_app);
    assert_eq!(std::fs::read_link(host.out("tls")).unwrap(), gen_tls);

    // An invalid spec file: the old spec stays, and the log says why.
    notify.seen.clear();
    std::fs::write(
        host.etc_spec().with_extension("tmp"),
        r#"{"vault": {"address": "nope"}}"#,
    )
    .unwrap();
    std::fs::rename(host.etc_spec().with_extension("tmp"), host.etc_spec()).unwrap();
    notify.wait_for("RELOADING=1 (inotify)", Duration::from_secs(5), |m| {
        m.starts_with("RELOADING=1")
    });
    notify.wait_ready(Duration::from_secs(5));
    d.wait_log(
        "the new spec is invalid, the one in use is kept",
        Duration::from_secs(2),
    );
    assert_logged(&d.log_text(), "vault.address");

    // A valid spec with one more secret: it is rendered, the others are not touched.
    let (k3,) = (secret("k3"),);
    bao.kv_put("hosts/web01/extra", &json!({"k": k3}));
    let mut more = secrets.clone();
    more["extra"] = host.secret_entry("extra", "hosts/web01/extra");
    notify.seen.clear();
    write_daemon_spec(&host, &bao, json!({"secrets": more}));
    let ready = notify.wait_for(
        "READY=1 after the spec change",
        Duration::from_secs(5),
        |m| m.starts_with("READY=1"),
    );
    assert_eq!(status_of(&ready), "3 secrets fresh, token ttl 59m");
    assert_eq!(read(&host.out("extra").join("k")), k3);
    assert_eq!(std::fs::read_link(host.out("app")).unwrap(), gen_app);
    assert_eq!(std::fs::read_link(host.out("tls")).unwrap(), gen_tls);
    d.wait_log(
        "spec reloaded: 3 secret(s), 1 new or changed",
        Duration::from_secs(1),
    );

    // SIGTERM: STOPPING=1, exit 0, no temporary files left anywhere.
    notify.seen.clear();
    d.signal("TERM");
    notify.wait_for("STOPPING=1", Duration::from_secs(5), |m| {
        m.starts_with("STOPPING=1")
    });
    assert_eq!(d.wait_exit(Duration::from_secs(10)), 0);
    let leftovers: Vec<String> = walk(&host.root.path().join("run"))
        .into_iter()
        .filter(|p| p.contains(".tmp-") || p.contains(".link-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                out.extend(walk(&p));
            }
        }
    }
    out
}

/// Requests per path from an OpenBao file audit log.
fn audit_requests(log: &Path) -> Vec<(String, String)> {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        f.read_to_string(&mut text).unwrap();
    }
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "request")
        .map(|v| {
            (
                v["request"]["operation"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["request"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn cheap_metadata_checks_and_full_reads_where_metadata_is_denied() {
    let (_audit_dir, audit, bao) = bao_with_file_audit();
    let (a, b) = (secret("a"), secret("b"));
    bao.kv_put("hosts/web02/open", &json!({"v": a}));
    bao.kv_put("shared/closed", &json!({"v": b}));
    let (role_id, secret_id) = bao.approle("web02");
    // The role may read shared/closed but not its metadata.
    let pf = bao.path().join("extra.hcl");
    std::fs::write(
        &pf,
        "path \"secret/data/hosts/web02/*\" { capabilities = [\"read\"] }\n\
         path \"secret/metadata/hosts/web02/*\" { capabilities = [\"read\"] }\n\
         path \"secret/data/shared/closed\" { capabilities = [\"read\"] }\n",
    )
    .unwrap();
    bao.cli(&["policy", "write", "host-web02", pf.to_str().unwrap()]);
    let host = daemon_host_with(&bao, &role_id, &secret_id, json!({}));
    write_daemon_spec(
        &host,
        &bao,
        json!({"secrets": {
            "open": host.secret_entry("open", "hosts/web02/open"),
            "closed": host.secret_entry("closed", "shared/closed"),
        }}),
    );
    let (mut notify, d) = start_daemon(&host);
    notify.wait_ready(Duration::from_secs(20));
    d.wait_log(
        "secret closed: the policy denies its KV metadata",
        Duration::from_secs(5),
    );
    let before = audit_requests(&audit).len();
    std::thread::sleep(Duration::from_secs(4));
    let reqs: Vec<(String, String)> = audit_requests(&audit).split_off(before);
    let count = |p: &str| reqs.iter().filter(|(_, path)| path == p).count();
    let meta_open = count("secret/metadata/hosts/web02/open");
    let data_open = count("secret/data/hosts/web02/open");
    let meta_closed = count("secret/metadata/shared/closed");
    let data_closed = count("secret/data/shared/closed");
    // 4s at a 0.8-1s interval: 4 or 5 checks each.
    assert!((4..=6).contains(&meta_open), "{reqs:?}");
    assert_eq!(data_open, 0, "{reqs:?}");
    assert_eq!(meta_closed, 0, "{reqs:?}");
    assert!((4..=6).contains(&data_closed), "{reqs:?}");
    // Nothing else: no logins, no renewals in between.
    assert_eq!(reqs.len(), meta_open + data_closed, "{reqs:?}");
    drop(d);
    assert_no_secret_in(
        &std::fs::read_to_string(&audit).unwrap_or_default(),
        "the audit log",
    );
}

#[test]
fn an_outage_is_served_from_the_cache_and_recovery_is_seen() {
    let mut bao = Bao::dev();
    let v = secret("v");
    bao.kv_put("hosts/web03/db", &json!({"password": v}));
    let (role_id, secret_id) = bao.approle("web03");
    let host = daemon_host_with(&bao, &role_id, &secret_id, json!({}));
    write_daemon_spec(
        &host,
        &bao,
        json!({"secrets": {"db": host.secret_entry("db", "hosts/web03/db")}}),
    );
    let (mut notify, d) = start_daemon(&host);
    let ready = notify.wait_ready(Duration::from_secs(20));
    assert_eq!(status_of(&ready), "1 secret fresh, token ttl 59m");

    bao.stop();
    let st = notify.wait_for("STATUS from cache", Duration::from_secs(10), |m| {
        status_of(m).contains("from cache")
    });
    assert!(
        status_of(&st).starts_with("0 secrets fresh, 1 from cache (vault unreachable for "),
        "{st}"
    );
    assert_eq!(read(&host.out("db").join("password")), v);
    d.wait_log("Vault is unreachable", Duration::from_secs(1));
    let status_file = host.root.path().join("state/status/db.json");
    let st: Value = serde_json::from_str(&read(&status_file)).unwrap();
    assert!(st["fromCacheSince"].is_u64(), "{st}");

    // OpenBao comes back (a dev server starts empty: provision it again with the
    // same role-id and secret-id). The daemon's old token is gone: it logs in again.
    bao.start();
    bao.kv_put("hosts/web03/db", &json!({"password": v}));
    let (new_role, _) = bao.approle("web03");
    bao.cli(&[
        "write",
        "auth/approle/role/web03/role-id",
        &format!("role_id={role_id}"),
    ]);
    bao.cli(&[
        "write",
        "auth/approle/role/web03/custom-secret-id",
        &format!("secret_id={secret_id}"),
    ]);
    let _ = new_role;
    let st = notify.wait_for("STATUS fresh again", Duration::from_secs(20), |m| {
        status_of(m).starts_with("1 secret fresh, token ttl")
    });
    assert_eq!(status_of(&st), "1 secret fresh, token ttl 59m");
    d.wait_log("Vault answers again after", Duration::from_secs(1));
    d.wait_log("logging in again", Duration::from_secs(1));
    assert_eq!(read(&host.out("db").join("password")), v);
    let st: Value = serde_json::from_str(&read(&status_file)).unwrap();
    assert!(st["fromCacheSince"].is_null(), "{st}");
    assert!(st["lastError"].is_null(), "{st}");
    // The old token's 403s were recognised as a dead token, not blamed on the policy.
    assert!(
        d.log_text()
            .contains("Vault denied reading it; checking whether the token is still valid"),
        "{}",
        d.log_text()
    );
    assert_not_logged(&d.log_text(), "grant the host's policy");
}

#[test]
fn an_invalid_spec_at_start_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        r#"{"vault": {"address": "http://127.0.0.1:1"}, "refreshInterval": "soon"}"#,
    )
    .unwrap();
    let run = support::run::vaultkeeper(&["--spec", spec.to_str().unwrap(), "run"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_logged(&run.stderr, "refreshInterval");
}

#[test]
fn short_lived_tokens_are_renewed_then_replaced_before_their_max_ttl() {
    let (_audit_dir, audit, bao) = bao_with_file_audit();
    let v = secret("v");
    bao.kv_put("hosts/web05/db", &json!({"password": v}));
    let (role_id, secret_id) = bao.approle("web05");
    // 6s tokens, renewable up to 15s after login.
    bao.cli(&[
        "write",
        "auth/approle/role/web05",
        "token_policies=host-web05",
        "token_ttl=6s",
        "token_max_ttl=15s",
    ]);
    let host = daemon_host_with(&bao, &role_id, &secret_id, json!({}));
    write_daemon_spec(
        &host,
        &bao,
        json!({"secrets": {"db": host.secret_entry("db", "hosts/web05/db")}}),
    );
    let mut notify = NotifySocket::bind(host.root.path());
    let start = Instant::now();
    let d = Daemon::start_with_notify(&host.etc_spec(), &notify.path, &[]);
    let ready = notify.wait_ready(Duration::from_secs(20));
    assert_eq!(status_of(&ready), "1 secret fresh, token ttl 5s");
    // Login at 0 (6s), renewals at 4 and 8 (6s each), at 12 only 3s are left
    // (half the lease): a new login at 14, renewed at 18.
    std::thread::sleep(Duration::from_secs(20).saturating_sub(start.elapsed()));
    let reqs = audit_requests(&audit);
    let logins = reqs
        .iter()
        .filter(|(_, p)| p == "auth/approle/login")
        .count();
    let renewals = reqs
        .iter()
        .filter(|(_, p)| p == "auth/token/renew-self")
        .count();
    assert_eq!(logins, 2, "{reqs:?}");
    assert!((3..=4).contains(&renewals), "{renewals} renewals: {reqs:?}");
    notify.drain();
    assert!(
        notify
            .seen
            .iter()
            .filter_map(|m| m.strip_prefix("STATUS="))
            .filter(|s| *s != "starting: rendering secrets")
            .all(|s| s.starts_with("1 secret fresh, token ttl ")),
        "{:?}",
        notify.seen
    );
    let log = d.log_text();
    assert!(log.contains("the token's max TTL is near"), "{log}");
    assert_not_logged(&log, "ERROR");
    assert_not_logged(&log, "permission denied");

    // The token the second login replaced was revoked then; a clean stop
    // revokes the last one: no AppRole lease is left.
    let mut d = d;
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(10)), 0);
    let reqs = audit_requests(&audit);
    let first_login = reqs
        .iter()
        .position(|(_, p)| p == "auth/approle/login")
        .unwrap();
    let revokes = reqs[first_login..]
        .iter()
        .filter(|(_, p)| p == "auth/token/revoke-self")
        .count();
    assert_eq!(revokes, 2, "{:?}", audit_requests(&audit));
    let leases = bao.cli_output(&[
        "list",
        "-format=json",
        "sys/leases/lookup/auth/approle/login",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&leases.stdout).trim(),
        "{}",
        "AppRole leases left after a clean stop"
    );
}

#[test]
fn new_credential_files_are_used_for_the_next_login() {
    let bao = Bao::dev();
    let v = secret("v");
    bao.kv_put("hosts/web06/db", &json!({"password": v}));
    let host = daemon_host(&bao, "web06", json!({}));
    write_daemon_spec(
        &host,
        &bao,
        json!({"secrets": {"db": host.secret_entry("db", "hosts/web06/db")}}),
    );
    let (mut notify, d) = start_daemon(&host);
    notify.wait_ready(Duration::from_secs(20));
    // A new secret-id (as `vaultkeeper bootstrap` would store it), the old one destroyed.
    let new_id = bao.cli_json(&["write", "-f", "auth/approle/role/web06/secret-id"])["data"]
        ["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    support::run::register_secret(&new_id);
    let file = host.root.path().join("state/approle/secret-id");
    let old_id = read(&file);
    bao.cli(&[
        "write",
        "auth/approle/role/web06/secret-id/destroy",
        &format!("secret_id={old_id}"),
    ]);
    support::spec::write_private(&file, &new_id);
    d.wait_log(
        "the AppRole credential files changed: logging in again",
        Duration::from_secs(5),
    );
    wait_until("a second login", Duration::from_secs(5), || {
        d.log_text().matches("logged in with AppRole").count() == 2
    });
    assert_not_logged(&d.log_text(), "was rejected");
}

#[test]
fn ready_comes_when_a_secret_has_definitively_failed() {
    let bao = Bao::dev();
    let v = secret("v");
    bao.kv_put("hosts/web07/ok", &json!({"v": v}));
    let host = daemon_host(&bao, "web07", json!({}));
    write_daemon_spec(
        &host,
        &bao,
        json!({"secrets": {
            "ok": host.secret_entry("ok", "hosts/web07/ok"),
            "missing": host.secret_entry("missing", "hosts/web07/missing"),
            "denied": host.secret_entry("denied", "hosts/other/x"),
        }}),
    );
    let (mut notify, d) = start_daemon(&host);
    let ready = notify.wait_ready(Duration::from_secs(20));
    assert_eq!(status_of(&ready), "1 secret fresh, 2 failed, token ttl 59m");
    assert_eq!(read(&host.out("ok").join("v")), v);
    assert!(!host.out("missing").exists());
    let log = d.log_text();
    assert_logged(
        &log,
        "secret missing: secret/data/hosts/web07/missing does not exist in Vault",
    );
    assert_logged(
        &log,
        "secret denied: Vault denied reading secret/data/hosts/other/x",
    );
    // Failures are retried with backoff, never in a tight loop: at most a few
    // attempts in 3 s at a 1 s refresh interval.
    std::thread::sleep(Duration::from_secs(3));
    let tries = d.log_text().matches("secret missing: secret/data").count();
    assert!((2..=5).contains(&tries), "{tries} attempts");
}

/// The header and the section texts of a Slack payload.
fn block_texts(p: &Value) -> Vec<String> {
    p["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"]["text"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn digests_on_schedule_and_seal_alerts_reach_slack_once() {
    let bao = Bao::file_storage();
    let v = secret("v");
    bao.kv_put("hosts/web05/db", &json!({"password": v}));
    let (role_id, secret_id) = bao.approle("web05");
    let host = daemon_host_with(&bao, &role_id, &secret_id, json!({}));
    let slack = support::slack::Slack::up_now();
    // The webhook file does not exist yet (at boot it can itself be a secret
    // the daemon renders): messages wait until it does.
    let url_file = host.root.path().join("webhook-url");
    write_daemon_spec(
        &host,
        &bao,
        json!({
            "secrets": {"db": host.secret_entry("db", "hosts/web05/db")},
            "insights": {
                "digest": "1h",
                "sealCheckInterval": "1s",
                // A closed local port: the digest says why updates were not checked.
                "versionFeed": "http://127.0.0.1:1/releases",
                "slack": {"webhookUrlFile": url_file, "timeout": "2s"},
            },
        }),
    );
    let (mut notify, mut d) = start_daemon(&host);
    notify.wait_ready(Duration::from_secs(20));

    d.wait_log(
        "messages wait in the outbox until it can be read",
        Duration::from_secs(10),
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(slack.requests(), 0);
    std::fs::write(&url_file, slack.url()).unwrap();

    // 1. The first digest goes out, and its score is recorded.
    let first = slack.wait_for(1, 30);
    let t = block_texts(&first[0]);
    assert!(t[0].starts_with("Vault digest for "), "{t:?}");
    assert!(
        t.iter().any(|x| x.starts_with(&format!(
            "*Server* {} — :large_green_circle: unsealed, version 2.7.2",
            bao.addr
        ))),
        "{t:?}"
    );
    assert!(
        t.contains(&"*Secrets* 1 on this host, all fresh".to_string()),
        "{t:?}"
    );
    let posture = t.iter().find(|x| x.starts_with("*Posture* ")).unwrap();
    assert!(posture.contains("/100 (first digest)"), "{posture}");
    assert!(
        t.iter().any(|x| x.starts_with("*Updates* not checked: ")),
        "{t:?}"
    );
    let last_file = host.root.path().join("state/insights/last-digest.json");
    let last: Value = serde_json::from_str(&read(&last_file)).unwrap();
    let score = last["score"].as_u64().unwrap();
    assert!(last["sentAt"].as_u64().unwrap() > 1_700_000_000, "{last}");
    assert!(posture.starts_with(&format!("*Posture* {score}/100")));

    // 2. Sealed: an alert at once; unsealed: the all-clear.
    bao.seal();
    let sealed = slack.wait_for(2, 15);
    assert_eq!(
        block_texts(&sealed[1])[0],
        "Vault is sealed",
        "{:#?}",
        sealed[1]
    );
    assert!(
        sealed[1]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("Vault at {} is SEALED (seen from ", bao.addr)),
        "{:#?}",
        sealed[1]
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        slack.payloads().len(),
        2,
        "one alert per seal, not per check"
    );
    bao.unseal();
    let unsealed = slack.wait_for(3, 15);
    assert_eq!(block_texts(&unsealed[2])[0], "Vault is unsealed again");
    assert!(
        unsealed[2]["text"].as_str().unwrap().contains(" after "),
        "{:#?}",
        unsealed[2]
    );

    // 3. A week has gone by (as far as the record says) and the score was lower:
    //    the next digest is sent and shows the change.
    std::fs::write(
        &last_file,
        json!({"score": score - 4, "sentAt": 1_000_000_000u64}).to_string(),
    )
    .unwrap();
    let second = slack.wait_for(4, 30);
    let t = block_texts(&second[3]);
    assert!(
        t.iter()
            .any(|x| x.starts_with(&format!("*Posture* {score}/100 (+4 since the last digest)"))),
        "{t:?}"
    );

    // 4. A restart neither repeats the digest nor alerts on the healthy server.
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(20)), 0);
    let _d = Daemon::start_with_notify(&host.etc_spec(), &notify.path, &[]);
    notify.wait_ready(Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(slack.payloads().len(), 4, "{:#?}", slack.payloads());
    slack.assert_valid();
    let outbox = host.root.path().join("state/insights/outbox");
    assert_eq!(
        std::fs::read_dir(&outbox).unwrap().count(),
        0,
        "all delivered"
    );
}

/// 100 secrets at a 1 s refresh, Vault killed for 20 s: the daemon sends one
/// sys/health probe at a time (jittered backoff up to the refresh interval), at
/// most one connection attempt a second in total, counted by a TCP proxy in
/// front of OpenBao; checks resume when it answers again.
#[test]
fn an_outage_is_one_probe_at_a_time() {
    const SECRETS: usize = 100;
    const OUTAGE: u64 = 20;
    let mut bao = Bao::file_storage();
    let v = secret("v");
    bao.kv_put("hosts/web06/db", &json!({"password": v}));
    let (role_id, secret_id) = bao.approle("web06");
    let proxy = support::fake::CountingProxy::new(bao.port);
    let host = daemon_host_with(&bao, &role_id, &secret_id, json!({}));
    let secrets: serde_json::Map<String, Value> = (0..SECRETS)
        .map(|i| {
            let name = format!("s{i:03}");
            let entry = host.secret_entry(&name, "hosts/web06/db");
            (name, entry)
        })
        .collect();
    write_daemon_spec(
        &host,
        &bao,
        json!({
            "vault": {"address": proxy.addr, "timeout": "2s"},
            "secrets": secrets,
        }),
    );
    let (mut notify, d) = start_daemon(&host);
    let ready = notify.wait_ready(Duration::from_secs(60));
    assert!(
        status_of(&ready).starts_with("100 secrets fresh"),
        "{ready}"
    );

    bao.stop();
    let before = proxy.connections();
    std::thread::sleep(Duration::from_secs(OUTAGE));
    let during = proxy.connections() - before;
    eprintln!(
        "outage: {during} connection attempts in {OUTAGE} s for {SECRETS} secrets at a 1 s refresh"
    );
    assert!(
        during as u64 <= OUTAGE + 1,
        "{during} connection attempts in {OUTAGE} s:\n{}",
        d.log_text()
    );
    assert!(during >= 3, "no probe at all? {during}");
    d.wait_log("one sys/health probe at a time", Duration::from_secs(1));
    for i in [0, 57, 99] {
        assert_eq!(read(&host.out(&format!("s{i:03}")).join("password")), v);
    }

    // Back: the probe sees it, the checks resume (the token survived the restart).
    bao.start();
    d.wait_log("Vault answers again after", Duration::from_secs(30));
    let st = notify.wait_for("STATUS fresh again", Duration::from_secs(30), |m| {
        status_of(m).starts_with("100 secrets fresh")
    });
    assert!(!status_of(&st).contains("unreachable"), "{st}");
}

/// A destroyed secret-id: the daemon's rejected logins stay under OpenBao's
/// AppRole lockout (5 in 15 min): two in the first 20 s (at once, then 10 s
/// later), the next only minutes later. STATUS= and `status` say "login failing
/// since …: <Vault's reason>". A new secret-id written to the file is tried at
/// once (inotify) and works: the host was not locked out.
#[test]
fn rejected_logins_stay_under_the_lockout_and_a_new_secret_id_is_tried_at_once() {
    let (_audit_dir, audit, bao) = bao_with_file_audit();
    let v = secret("v");
    bao.kv_put("hosts/web08/db", &json!({"password": v}));
    let (role_id, secret_id) = bao.approle("web08");
    let host = daemon_host_with(&bao, &role_id, &secret_id, json!({}));
    write_daemon_spec(
        &host,
        &bao,
        json!({"secrets": {"db": host.secret_entry("db", "hosts/web08/db")}}),
    );
    let (mut notify, d) = start_daemon(&host);
    notify.wait_ready(Duration::from_secs(20));

    // The secret-id is destroyed and the host's token revoked.
    bao.cli(&[
        "write",
        "auth/approle/role/web08/secret-id/destroy",
        &format!("secret_id={secret_id}"),
    ]);
    bao.cli(&["write", "-f", "sys/leases/revoke-prefix/auth/approle/login"]);
    let st = notify.wait_for("STATUS login failing", Duration::from_secs(15), |m| {
        status_of(m).contains("login failing since")
    });
    assert!(
        status_of(&st).contains(": invalid role or secret ID"),
        "{st}"
    );
    let first = Instant::now();
    let logins = || {
        audit_requests(&audit)
            .iter()
            .filter(|(_, p)| p == "auth/approle/login")
            .count()
    };
    std::thread::sleep(Duration::from_secs(20).saturating_sub(first.elapsed()));
    let rejected = logins() - 1; // the first, good login
    assert!(
        (1..=2).contains(&rejected),
        "{rejected} rejected logins in 20 s: {:?}",
        audit_requests(&audit)
    );
    let r = support::run::vaultkeeper(
        &["--spec", host.etc_spec().to_str().unwrap(), "status"],
        &[("VAULT_TOKEN", "root")],
    );
    assert!(
        r.stdout.contains("login failing since") && !r.stdout.contains("grant the host's policy"),
        "{}",
        r.stdout
    );

    // A fresh secret-id, installed as bootstrap would (a new file renamed over).
    let new_id = bao.cli_json(&["write", "-f", "auth/approle/role/web08/secret-id"])["data"]
        ["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    support::run::register_secret(&new_id);
    let cred = host.root.path().join("state/approle");
    support::spec::write_private(&cred.join("secret-id.new"), &new_id);
    std::fs::rename(cred.join("secret-id.new"), cred.join("secret-id")).unwrap();
    // (Tried at once: well before the next 5-minute retry; the limits below
    // only give a loaded machine time.)
    let st = notify.wait_for("STATUS fresh again", Duration::from_secs(30), |m| {
        status_of(m).starts_with("1 secret fresh, token ttl")
    });
    assert!(!status_of(&st).contains("failing"), "{st}");
    d.wait_log("the AppRole login works again", Duration::from_secs(5));
    assert!(!host.root.path().join("state/login-status.json").exists());
    assert!(
        logins() - 1 <= 3,
        "more rejected logins than the lockout allows: {:?}",
        audit_requests(&audit)
    );
}
