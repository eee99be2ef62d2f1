//! `vaultkeeper fetch` against a real OpenBao: rendering, cache fallback and
//! every failure mode with its exit code.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use support::bao::Bao;
use support::logged::{assert_logged, assert_not_logged};
use support::run::{secret, vaultkeeper, Run};
use support::spec::{dev_host, files, Host};

fn fetch(spec: &Path, names: &[&str]) -> Run {
    let mut args = vec!["--spec", spec.to_str().unwrap(), "fetch"];
    args.extend_from_slice(names);
    vaultkeeper(&args, &[])
}

#[test]
fn kv_v2_and_v1_render_one_file_per_key() {
    let (bao, host) = dev_host("h1");
    bao.cli(&["secrets", "enable", "-path=kv1", "-version=1", "kv"]);
    let (p1, p2) = (secret("v2pass"), secret("v1pass"));
    bao.kv_put(
        "hosts/h1/app",
        &json!({ "password": p1, "port": 5432, "opts": {"tls": true} }),
    );
    let f = bao.path().join("kv1.json");
    std::fs::write(&f, json!({ "password": p2 }).to_string()).unwrap();
    bao.cli(&["write", "kv1/hosts/h1/legacy", &format!("@{}", f.display())]);

    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({
            "app": { "secretPath": "hosts/h1/app" },
            "legacy": { "secretPath": "hosts/h1/legacy", "kvMount": "kv1", "kvVersion": 1 },
        }),
    ));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        files(&host.out("app")),
        [
            ("opts", r#"{"tls":true}"#.to_string()),
            ("password", p1.clone()),
            ("port", "5432".into())
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    );
    assert_eq!(files(&host.out("legacy"))["password"], p2);
    assert!(
        r.stderr
            .contains("app: rendered 3 file(s) from Vault (version 1)"),
        "{}",
        r.stderr
    );

    // Cache: 0700 directory, 0600 file, with fetch time and KV version.
    let cache = host.state_dir().join("cache/app");
    assert_eq!(std::fs::metadata(&cache).unwrap().mode() & 0o7777, 0o700);
    let cf = cache.join("data.json");
    assert_eq!(std::fs::metadata(&cf).unwrap().mode() & 0o7777, 0o600);
    let c: serde_json::Value = serde_json::from_slice(&std::fs::read(&cf).unwrap()).unwrap();
    assert_eq!(c["kvVersion"], 2);
    assert_eq!(c["version"], 1);
    assert!(c["fetchedAt"].as_u64().unwrap() > 1_700_000_000);

    // Unchanged data: files untouched.
    let mtime = std::fs::metadata(host.out("app").join("password"))
        .unwrap()
        .mtime_nsec();
    let r = fetch(&spec, &["app"]);
    assert_eq!(r.code, 0);
    assert_logged(&r.stderr, "app: unchanged");
    assert_eq!(
        std::fs::metadata(host.out("app").join("password"))
            .unwrap()
            .mtime_nsec(),
        mtime
    );
}

#[test]
fn a_key_removed_in_vault_disappears() {
    let (bao, host) = dev_host("h2");
    bao.kv_put(
        "hosts/h2/app",
        &json!({ "a": secret("a"), "b": secret("b") }),
    );
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h2/app" } }),
    ));
    assert_eq!(fetch(&spec, &[]).code, 0);
    assert_eq!(files(&host.out("app")).len(), 2);
    let a = secret("a2");
    bao.kv_put("hosts/h2/app", &json!({ "a": a }));
    assert_eq!(fetch(&spec, &[]).code, 0);
    assert_eq!(
        files(&host.out("app")),
        [("a".to_string(), a)].into_iter().collect()
    );
}

#[test]
fn owner_group_and_mode_with_real_users() {
    let (bao, host) = dev_host("h3");
    let user = format!("vkt{}", &support::bao::rand_suffix()[..8]);
    let group = format!("{user}g");
    let _accounts = Accounts::create(&user, &group);
    bao.kv_put("hosts/h3/app", &json!({ "key": secret("k") }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h3/app", "owner": user, "group": group, "mode": "0440" } }),
    ));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let uid = nix::unistd::User::from_name(&user)
        .unwrap()
        .unwrap()
        .uid
        .as_raw();
    let gid = nix::unistd::Group::from_name(&group)
        .unwrap()
        .unwrap()
        .gid
        .as_raw();
    let m = std::fs::metadata(host.out("app").join("key")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (uid, gid, 0o440));
    let d = std::fs::metadata(host.out("app")).unwrap();
    assert_eq!((d.uid(), d.gid(), d.mode() & 0o7777), (uid, gid, 0o550));

    // An owner that does not exist on this host: a clear error, exit 7.
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h3/app", "owner": "no-such-vk-user" } }),
    ));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("user \"no-such-vk-user\" does not exist on this host"),
        "{}",
        r.stderr
    );
}

struct Accounts(String, String);

impl Accounts {
    fn create(user: &str, group: &str) -> Accounts {
        let ok = |args: &[&str]| {
            assert!(
                std::process::Command::new(args[0])
                    .args(&args[1..])
                    .status()
                    .unwrap()
                    .success(),
                "{args:?}"
            )
        };
        ok(&["groupadd", group]);
        ok(&["useradd", "--system", "--no-create-home", "-g", group, user]);
        Accounts(user.into(), group.into())
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        let _ = std::process::Command::new("userdel").arg(&self.0).status();
        let _ = std::process::Command::new("groupdel").arg(&self.1).status();
    }
}

#[test]
fn vault_down_renders_from_the_cache_with_a_warning() {
    let (mut bao, host) = dev_host("h4");
    let pw = secret("pw");
    bao.kv_put("hosts/h4/app", &json!({ "pw": pw }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h4/app" } }),
    ));
    assert_eq!(fetch(&spec, &[]).code, 0);
    bao.stop();
    // /run is a tmpfs: after a reboot the outputs are gone, the cache is not.
    std::fs::remove_dir_all(host.path("run")).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // One label: the log level says WARN, the message does not say it again;
    // the age is the cache's (seconds: a loaded machine may take one or two).
    let prefix = " WARN app: rendered from the last-known-good cache, ";
    let age: u64 = r
        .stderr
        .split_once(prefix)
        .and_then(|(_, rest)| rest.split_once("s old, because Vault at"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix:?}<N>s old, because Vault at in:\n{}", r.stderr));
    assert!(age <= 30, "the cache was written seconds ago: {age}s old");
    assert_not_logged(&r.stderr, "WARNING");
    assert_logged(&r.stderr, "is unreachable");
    assert_eq!(files(&host.out("app"))["pw"], pw);
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(host.state_dir().join("status/app.json")).unwrap())
            .unwrap();
    assert!(status["fromCacheSince"].as_u64().is_some(), "{status}");
}

#[test]
fn unreachable_without_a_cache_is_an_error() {
    let host = Host::new();
    host.write_credentials("role", "secret");
    let addr = format!("http://127.0.0.1:{}", support::bao::free_port());
    let spec =
        host.write_spec(&host.spec(&addr, json!({ "app": { "secretPath": "hosts/x/app" } })));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert_logged(&r.stderr, "is unreachable");
    assert_logged(&r.stderr, "there is no cache at");
    assert!(!host.out("app").exists());
}

#[test]
fn a_sealed_server_counts_as_unreachable() {
    let bao = Bao::file_storage();
    let host = Host::new();
    let (role_id, secret_id) = bao.approle("h5");
    host.write_credentials(&role_id, &secret_id);
    let pw = secret("pw");
    bao.kv_put("hosts/h5/app", &json!({ "pw": pw }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h5/app" } }),
    ));
    assert_eq!(fetch(&spec, &[]).code, 0);
    bao.seal();
    std::fs::remove_dir_all(host.path("run")).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, "sealed or in standby (HTTP 503)");
    assert_logged(&r.stderr, "rendered from the last-known-good cache");
    assert_eq!(files(&host.out("app"))["pw"], pw);
    bao.unseal();
    let r = fetch(&spec, &[]);
    assert_logged(&r.stderr, "app: unchanged");
}

#[test]
fn invalid_credentials_name_the_role_id_file_and_never_use_the_cache() {
    let (bao, host) = dev_host("h6");
    bao.kv_put("hosts/h6/app", &json!({ "pw": secret("pw") }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h6/app" } }),
    ));
    assert_eq!(fetch(&spec, &[]).code, 0);
    std::fs::remove_dir_all(host.path("run")).unwrap();
    host.write_credentials(
        "00000000-0000-0000-0000-000000000000",
        "11111111-1111-1111-1111-111111111111",
    );
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("AppRole login at auth/approle/login was rejected"),
        "{}",
        r.stderr
    );
    assert_logged(
        &r.stderr,
        &format!(
            "check the role-id in {}",
            host.path("state/approle/role-id").display()
        ),
    );
    assert!(
        !host.out("app").exists(),
        "the cache must not be used for bad credentials"
    );

    std::fs::remove_file(host.path("state/approle/secret-id")).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("no AppRole secret-id at")
            && r.stderr.contains("run `vaultkeeper bootstrap`"),
        "{}",
        r.stderr
    );
}

#[test]
fn denied_and_not_found_name_the_path() {
    let (bao, host) = dev_host("h7");
    bao.kv_put("hosts/other/app", &json!({ "pw": secret("pw") }));
    bao.kv_put("hosts/h7/ok", &json!({ "pw": secret("pw") }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({
            "denied": { "secretPath": "hosts/other/app" },
            "missing": { "secretPath": "hosts/h7/nope" },
            "ok": { "secretPath": "hosts/h7/ok" },
        }),
    ));
    let r = fetch(&spec, &["denied"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("secret denied: Vault denied reading secret/data/hosts/other/app"),
        "{}",
        r.stderr
    );
    let r = fetch(&spec, &["missing"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("secret missing: secret/data/hosts/h7/nope does not exist in Vault"),
        "{}",
        r.stderr
    );
    // One failing secret does not stop the others.
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 4);
    assert!(host.out("ok").join("pw").exists());
    assert!(!host.out("denied").exists() && !host.out("missing").exists());
    let r = fetch(&spec, &["nosuch"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no secret or template named \"nosuch\" in the spec (secrets: denied, missing, ok; templates: none)"),
        "{}",
        r.stderr
    );
}

#[test]
fn path_traversal_key_names_fail_that_secret_and_write_nothing() {
    let (bao, host) = dev_host("h8");
    for (i, bad) in ["../../etc/evil", "..", "a/b"].iter().enumerate() {
        bao.kv_put(
            &format!("hosts/h8/bad{i}"),
            &json!({ "fine": secret("f"), *bad: secret("x") }),
        );
    }
    bao.kv_put("hosts/h8/good", &json!({ "k": secret("k") }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({
            "bad0": { "secretPath": "hosts/h8/bad0" }, "bad1": { "secretPath": "hosts/h8/bad1" },
            "bad2": { "secretPath": "hosts/h8/bad2" }, "good": { "secretPath": "hosts/h8/good" },
        }),
    ));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("secret bad0: key \"../../etc/evil\" contains '/'"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("secret bad1: key \"..\" would name a directory"),
        "{}",
        r.stderr
    );
    assert_logged(&r.stderr, "nothing of it was written");
    for i in 0..3 {
        assert!(!host.out(&format!("bad{i}")).exists());
    }
    assert!(!host.path("etc").exists() && !host.path("run/etc").exists());
    assert!(host.out("good").join("k").exists());
    assert!(
        !host.state_dir().join("cache/bad0").exists(),
        "a refused secret is not cached"
    );
}

#[test]
fn a_symlink_planted_in_the_output_and_cache_dirs_is_not_followed() {
    let (bao, host) = dev_host("h9");
    let v = secret("v");
    bao.kv_put("hosts/h9/app", &json!({ "pw": v }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h9/app" } }),
    ));
    let victim = host.path("victim");
    std::fs::write(&victim, "do not touch").unwrap();
    // A plain directory at outputDir with a symlink where the key file goes, and a
    // symlink where the cache file goes.
    std::fs::create_dir_all(host.out("app")).unwrap();
    std::os::unix::fs::symlink(&victim, host.out("app").join("pw")).unwrap();
    let cache = host.state_dir().join("cache/app");
    std::fs::create_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(&victim, cache.join("data.json")).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "do not touch");
    assert_eq!(files(&host.out("app"))["pw"], v);
    assert!(std::fs::symlink_metadata(cache.join("data.json"))
        .unwrap()
        .is_file());

    // A cacheDir that is itself a symlink is refused.
    let elsewhere = host.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::remove_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &cache).unwrap();
    bao.kv_put("hosts/h9/app", &json!({ "pw": secret("v2") }));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert_logged(&r.stderr, "symlinks are refused");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn check_validates_offline() {
    let host = Host::new();
    let good = host.write_spec(&host.spec(
        "https://vault.example:8200",
        json!({ "a": { "secretPath": "x/y", "mode": "0440" } }),
    ));
    let r = vaultkeeper(&["check", "--spec", good.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("valid, 1 secret(s)"));
    let bad = host.write_spec(&host.spec(
        "https://vault.example:8200",
        json!({ "a": { "secretPath": "x/y", "mode": "0999" } }),
    ));
    let r = vaultkeeper(&["check", "--spec", bad.to_str().unwrap()], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("secrets.a.mode: \"0999\" is not an octal file mode"),
        "{}",
        r.stderr
    );
    let r = vaultkeeper(&["check", "--spec", "/nonexistent/spec.json"], &[]);
    assert_eq!(r.code, 2);
    assert_logged(&r.stderr, "cannot read spec /nonexistent/spec.json");
}

// ---- `fetch --boot`: the boot units render from a recently confirmed cache ----

fn boot_fetch(spec: &Path) -> Run {
    vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch", "--boot"], &[])
}

fn status_record(host: &Host, name: &str) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(host.state_dir().join(format!("status/{name}.json"))).unwrap(),
    )
    .unwrap()
}

fn edit_status(host: &Host, name: &str, f: impl FnOnce(&mut serde_json::Value)) {
    let p = host.state_dir().join(format!("status/{name}.json"));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, v.to_string()).unwrap();
}

/// A dev server behind a connection-counting proxy, a secret `app` fetched
/// once from Vault (which confirms its cache), `bootCacheMaxAge` as given.
fn confirmed(
    role: &str,
    max_age: Option<&str>,
) -> (
    Bao,
    support::fake::CountingProxy,
    Host,
    std::path::PathBuf,
    String,
) {
    let (bao, host) = dev_host(role);
    let pw = secret("bootpw");
    bao.kv_put(&format!("hosts/{role}/app"), &json!({ "pw": pw }));
    let proxy = support::fake::CountingProxy::new(bao.port);
    let mut spec = host.spec(
        &proxy.addr,
        json!({ "app": { "secretPath": format!("hosts/{role}/app") } }),
    );
    if let Some(m) = max_age {
        spec["bootCacheMaxAge"] = json!(m);
    }
    let spec = host.write_spec(&spec);
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.connections() > 0);
    let st = status_record(&host, "app");
    assert_eq!(st["confirmed"]["version"], 1, "{st}");
    assert_eq!(st["confirmed"]["secretPath"], format!("hosts/{role}/app"));
    (bao, proxy, host, spec, pw)
}

#[test]
fn boot_fetch_renders_a_recently_confirmed_cache_without_contacting_vault() {
    let (mut bao, proxy, host, spec, pw) = confirmed("hb1", None);
    let before = files(&host.out("app"));
    // Vault up: not asked either.
    let seen = proxy.connections();
    let r = boot_fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(proxy.connections(), seen, "{}", r.stderr);
    assert_eq!(files(&host.out("app")), before);
    // A fetch by hand (no --boot) always asks Vault.
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.connections() > seen);
    assert!(r.stderr.contains("app: unchanged"), "{}", r.stderr);
    assert_eq!(
        status_record(&host, "app")["bootCacheSince"],
        serde_json::Value::Null
    );
    // A reboot: /run is empty, Vault is down; nothing may reach it.
    std::fs::remove_dir_all(host.path("run")).unwrap();
    bao.stop();
    let seen = proxy.connections();
    let r = boot_fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(proxy.connections(), seen, "no login, no read: {}", r.stderr);
    assert_eq!(files(&host.out("app")), before);
    assert_eq!(files(&host.out("app"))["pw"], pw);
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains(" INFO app: rendered from the cache Vault confirmed "))
        .unwrap_or_else(|| panic!("no INFO line in:\n{}", r.stderr));
    assert!(
        line.contains(" s ago (bootCacheMaxAge 15m), without contacting Vault; the daemon re-checks it within one refresh interval (5m)"),
        "{line}"
    );
    assert!(!r.stderr.contains(" WARN "), "{}", r.stderr);
    let st = status_record(&host, "app");
    assert!(st["bootCacheSince"].as_u64().is_some(), "{st}");
    assert_eq!(
        st["fromCacheSince"],
        serde_json::Value::Null,
        "not an outage fallback"
    );
    assert_eq!(st["lastError"], serde_json::Value::Null);
    // `status` (Vault is down: its outage report) says where the files come from.
    let s = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "status", "--json"],
        &[("VAULT_TOKEN", "root")],
    );
    let j: serde_json::Value = serde_json::from_str(&s.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", s.stdout, s.stderr));
    assert!(j["secrets"][0]["bootCacheSince"].as_u64().is_some(), "{j}");
    assert!(j["secrets"][0]["confirmedAt"].as_u64().is_some(), "{j}");
    assert_eq!(j["secrets"][0]["fromCacheSince"], serde_json::Value::Null);
    let human = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "status"],
        &[("VAULT_TOKEN", "root")],
    );
    assert!(
        human
            .stdout
            .contains("rendered at boot from the cache Vault confirmed "),
        "{}",
        human.stdout
    );
}

#[test]
fn boot_fetch_reads_vault_when_the_confirmation_is_older_than_max_age() {
    let (mut bao, proxy, host, spec, pw) = confirmed("hb2", None);
    edit_status(&host, "app", |v| {
        v["confirmed"]["at"] = json!(v["confirmed"]["at"].as_u64().unwrap() - 901);
    });
    let seen = proxy.connections();
    let r = boot_fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.connections() > seen, "Vault was read: {}", r.stderr);
    assert!(r.stderr.contains("app: unchanged"), "{}", r.stderr);
    assert!(!r.stderr.contains("rendered from the cache Vault confirmed"));
    // Old again, and Vault down: the outage fallback as without --boot.
    edit_status(&host, "app", |v| {
        v["confirmed"]["at"] = json!(v["confirmed"]["at"].as_u64().unwrap() - 901);
    });
    bao.stop();
    std::fs::remove_dir_all(host.path("run")).unwrap();
    let r = boot_fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(" WARN app: rendered from the last-known-good cache, "),
        "{}",
        r.stderr
    );
    assert_eq!(files(&host.out("app"))["pw"], pw);
    let st = status_record(&host, "app");
    assert!(st["fromCacheSince"].as_u64().is_some(), "{st}");
    assert_eq!(st["bootCacheSince"], serde_json::Value::Null);
    // An outage fallback is no confirmation: the next boot tries Vault again
    // (and falls back again), even though the confirmation was moved back.
    edit_status(&host, "app", |v| {
        v["confirmed"]["at"] = json!(vaultkeeper::now_unix() - 10);
    });
    let seen = proxy.connections();
    let r = boot_fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.connections() > seen, "{}", r.stderr);
    assert!(r
        .stderr
        .contains(" WARN app: rendered from the last-known-good cache, "));
}

#[test]
fn boot_cache_max_age_zero_always_reads_vault() {
    let (_bao, proxy, _host, spec, _pw) = confirmed("hb3", Some("0s"));
    for _ in 0..2 {
        let seen = proxy.connections();
        let r = boot_fetch(&spec);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(proxy.connections() > seen, "{}", r.stderr);
        assert!(r.stderr.contains("app: unchanged"), "{}", r.stderr);
    }
}

#[test]
fn a_replaced_or_foreign_cache_or_a_moved_secret_path_reads_vault() {
    let (bao, proxy, host, spec_path, pw) = confirmed("hb4", None);
    let cache = host.state_dir().join("cache/app/data.json");
    let original = std::fs::read(&cache).unwrap();
    let reads_vault = |what: &str, spec: &Path| {
        let seen = proxy.connections();
        let r = boot_fetch(spec);
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        assert!(
            proxy.connections() > seen,
            "{what}: Vault not read: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("rendered from the cache Vault confirmed"),
            "{what}: {}",
            r.stderr
        );
        r
    };
    // The cache file replaced (another fetch time: not the one confirmed), its
    // data swapped for a value an attacker chose.
    let evil = secret("evil");
    let mut c: serde_json::Value = serde_json::from_slice(&original).unwrap();
    c["fetchedAt"] = json!(c["fetchedAt"].as_u64().unwrap() - 1);
    c["data"]["pw"] = json!(evil);
    std::fs::write(&cache, c.to_string()).unwrap();
    reads_vault("replaced cache", &spec_path);
    assert_eq!(files(&host.out("app"))["pw"], pw);
    // Confirmed for version 1, the cache claims version 2.
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    c["version"] = json!(2);
    c["data"]["pw"] = json!(evil);
    std::fs::write(&cache, c.to_string()).unwrap();
    reads_vault("other version", &spec_path);
    assert_eq!(files(&host.out("app"))["pw"], pw);
    // A corrupt cache file.
    std::fs::write(&cache, b"{\"format\": 1, ").unwrap();
    reads_vault("corrupt cache", &spec_path);
    assert_eq!(files(&host.out("app"))["pw"], pw);
    // The spec now points the secret at another path: its data, not the cache's.
    let other = secret("otherpw");
    bao.kv_put("hosts/hb4/other", &json!({ "pw": other }));
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spec_path).unwrap()).unwrap();
    spec["secrets"]["app"]["secretPath"] = json!("hosts/hb4/other");
    let moved = host.write_spec(&spec);
    reads_vault("moved secretPath", &moved);
    assert_eq!(files(&host.out("app"))["pw"], other);
}

#[test]
fn a_template_reads_vault_unless_all_its_inputs_are_confirmed() {
    let (bao, proxy, host, spec_path, _pw) = confirmed("hb5", None);
    let db = secret("dbpw");
    bao.kv_put("hosts/hb5/db", &json!({ "pw": db }));
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spec_path).unwrap()).unwrap();
    spec["secrets"]["db"] = json!({ "secretPath": "hosts/hb5/db", "outputDir": host.out("db") });
    spec["templates"] = json!({ "both.env": {
        "content": "A={{ app.pw }}\nB={{ db.pw }}\n",
        "path": host.path("run/secrets/rendered/both.env"),
    }});
    let spec_path = host.write_spec(&spec);
    // db was never read: it is not confirmed.
    let r = fetch(&spec_path, &["db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    edit_status(&host, "db", |v| v["confirmed"] = serde_json::Value::Null);
    let seen = proxy.connections();
    let r = vaultkeeper(
        &[
            "--spec",
            spec_path.to_str().unwrap(),
            "fetch",
            "--boot",
            "both.env",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.connections() > seen);
    assert!(
        !r.stderr.contains("rendered from the cache Vault confirmed"),
        "app feeds a template whose other input is unconfirmed: {}",
        r.stderr
    );
    // Both confirmed now (just read): the template unit renders without Vault.
    let seen = proxy.connections();
    let r = vaultkeeper(
        &[
            "--spec",
            spec_path.to_str().unwrap(),
            "fetch",
            "--boot",
            "both.env",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(proxy.connections(), seen, "{}", r.stderr);
    assert_eq!(
        r.stderr
            .matches("rendered from the cache Vault confirmed")
            .count(),
        2,
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(host.path("run/secrets/rendered/both.env")).unwrap(),
        format!("A={_pw}\nB={db}\n")
    );
}

#[test]
fn check_rejects_a_bad_boot_cache_max_age_with_its_path() {
    let host = Host::new();
    let mut spec = host.spec(
        "https://vault.example:8200",
        json!({ "a": { "secretPath": "x/y", "bootCacheMaxAge": "soon" } }),
    );
    let bad = host.write_spec(&spec);
    let r = vaultkeeper(&["check", "--spec", bad.to_str().unwrap()], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("secrets.a.bootCacheMaxAge: "),
        "{}",
        r.stderr
    );
    spec["secrets"]["a"]
        .as_object_mut()
        .unwrap()
        .remove("bootCacheMaxAge");
    spec["bootCacheMaxAge"] = json!("8d");
    let bad = host.write_spec(&spec);
    let r = vaultkeeper(&["check", "--spec", bad.to_str().unwrap()], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bootCacheMaxAge: must be at most 7d"),
        "{}",
        r.stderr
    );
    spec["bootCacheMaxAge"] = json!("0s");
    spec["vault"]["failback"] = json!("0s");
    let bad = host.write_spec(&spec);
    let r = vaultkeeper(&["check", "--spec", bad.to_str().unwrap()], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("vault.failback: must be between 1s and 1d"),
        "{}",
        r.stderr
    );
}
