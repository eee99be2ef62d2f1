//! Templates against a real OpenBao: an ini file from two secrets, unchanged
//! output left alone, a missing key keeping the previous version, the cache
//! answering for the template too, `check` listing every unknown placeholder,
//! `render --dry-run` printing names only, and files vaultkeeper did not write
//! left alone. The systemd side (EnvironmentFile= read back byte for byte, one
//! restart per change) is in tests/templates_systemd.rs.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::{json, Value};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use support::logged::assert_logged;
use support::run::{assert_no_secret_in, secret, vaultkeeper, Run};
use support::spec::{dev_host, Host};

fn run(spec: &Path, args: &[&str]) -> Run {
    let mut a = vec!["--spec", spec.to_str().unwrap()];
    a.extend_from_slice(args);
    let r = vaultkeeper(&a, &[]);
    assert_no_secret_in(&r.stdout, "vaultkeeper's stdout");
    r
}

fn rendered(host: &Host, name: &str) -> PathBuf {
    host.path(&format!("run/secrets/rendered/{name}"))
}

/// The host's spec with these secrets and templates (template paths default to
/// the host's run/secrets/rendered/<name>).
fn spec_with(host: &Host, addr: &str, secrets: Value, templates: Value) -> PathBuf {
    let mut spec = host.spec(addr, secrets);
    let mut templates = templates;
    for (name, t) in templates.as_object_mut().unwrap() {
        t.as_object_mut()
            .unwrap()
            .entry("path")
            .or_insert(json!(rendered(host, name)));
    }
    spec["templates"] = templates;
    host.write_spec(&spec)
}

fn read(p: &Path) -> String {
    String::from_utf8(std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn an_ini_file_from_two_secrets() {
    let (mut bao, host) = dev_host("t1");
    let (pw, user, url) = (
        secret("grafana-pw"),
        secret("grafana-user"),
        secret("db-url"),
    );
    bao.kv_put("hosts/t1/grafana", &json!({ "password": pw, "user": user }));
    bao.kv_put("hosts/t1/db", &json!({ "url": url, "port": 5432 }));
    let content = "[security]\nadmin_user = {{ grafana.user }}\nadmin_password = {{grafana.password}}\n\
                   [database]\nurl = {{ db.url }}:{{ db.port }}\nliteral = {{{{ not.a.placeholder }}\n";
    let spec = spec_with(
        &host,
        &bao.addr,
        json!({
            "grafana": { "secretPath": "hosts/t1/grafana" },
            "db": { "secretPath": "hosts/t1/db" },
        }),
        json!({ "grafana.ini": { "content": content, "mode": "0440", "services": ["grafana"] } }),
    );
    let out = rendered(&host, "grafana.ini");
    let want = format!(
        "[security]\nadmin_user = {user}\nadmin_password = {pw}\n[database]\nurl = {url}:5432\nliteral = {{{{ not.a.placeholder }}}}\n"
    );

    // The template by name: its two secrets are fetched, then it is rendered.
    let r = run(&spec, &["fetch", "grafana.ini"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&out), want);
    let m = std::fs::metadata(&out).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o440));
    assert_logged(&r.stderr, "template grafana.ini: rendered");
    assert!(host.out("grafana").join("password").exists());
    // Not cached as text: the cache holds the secrets, nothing else.
    let cached: Vec<String> = std::fs::read_dir(host.state_dir().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cached.len(), 2, "{cached:?}");
    assert!(!walk_contains(&host.state_dir(), want.as_bytes()));

    // Unchanged: the file is left alone (same inode, same mtime).
    let (ino, mtime) = (m.ino(), m.mtime_nsec());
    let r = run(&spec, &["fetch"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, "template grafana.ini: unchanged");
    let m = std::fs::metadata(&out).unwrap();
    assert_eq!((m.ino(), m.mtime_nsec()), (ino, mtime));

    // Dry run: placeholder names, never values.
    let r = run(&spec, &["render", "--template", "grafana.ini", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "grafana.user\ngrafana.password\ndb.url\ndb.port\n"
    );

    // A key removed in Vault: the template fails clearly, the previous version stays.
    let pw2 = secret("grafana-pw2");
    bao.kv_put("hosts/t1/grafana", &json!({ "password": pw2 }));
    let r = run(&spec, &["fetch"]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert_logged(&r.stderr, &format!(
            "template grafana.ini: {{{{ grafana.user }}}}: secret grafana has no key \"user\" (its keys: \"password\"); nothing was written, the previous version at {} is kept",
            out.display()
        ));
    assert_eq!(read(&out), want);
    // ...and the secret itself was still rendered.
    assert_eq!(read(&host.out("grafana").join("password")), pw2);

    // The key is back: rendered again.
    bao.kv_put(
        "hosts/t1/grafana",
        &json!({ "password": pw2, "user": user }),
    );
    assert_eq!(run(&spec, &["fetch"]).code, 0);
    assert_eq!(read(&out), want.replace(&pw, &pw2));

    // Vault down after a reboot (/run emptied): the template comes from the cache.
    bao.stop();
    std::fs::remove_dir_all(host.path("run")).unwrap();
    let r = run(&spec, &["fetch", "grafana.ini"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("template grafana.ini: rendered")
            && r.stderr
                .contains("from the last-known-good cache of db, grafana"),
        "{}",
        r.stderr
    );
    assert_eq!(read(&out), want.replace(&pw, &pw2));

    // `render` without Vault re-renders from the same data.
    std::fs::remove_file(&out).unwrap();
    let r = run(&spec, &["render", "--template", "grafana.ini"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&out), want.replace(&pw, &pw2));
}

fn walk_contains(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let p = e.unwrap().path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            walk_contains(&p, needle)
        } else {
            m.is_file()
                && std::fs::read(&p)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle)
        }
    })
}

#[test]
fn an_env_file_from_two_secrets_and_its_refusals() {
    let (bao, host) = dev_host("t2");
    let hostile = format!(
        "{} \"dq\" 'sq' \\bs $HOME ${{X}} `cmd` a=b\nline2\n",
        secret("env")
    );
    let token = secret("token");
    bao.kv_put(
        "hosts/t2/db",
        &json!({ "DB_PASSWORD": hostile, "DB_PORT": 5432 }),
    );
    bao.kv_put("hosts/t2/api", &json!({ "API_TOKEN": token }));
    let spec = spec_with(
        &host,
        &bao.addr,
        json!({
            "db": { "secretPath": "hosts/t2/db" },
            "api": { "secretPath": "hosts/t2/api" },
        }),
        json!({ "app.env": { "envFrom": ["db", "api"] } }),
    );
    let r = run(&spec, &["fetch"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let quoted = hostile
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$")
        .replace('`', "\\`");
    assert_eq!(
        read(&rendered(&host, "app.env")),
        format!("DB_PASSWORD=\"{quoted}\"\nDB_PORT=\"5432\"\nAPI_TOKEN=\"{token}\"\n")
    );
    let r = run(&spec, &["render", "--template", "app.env", "--dry-run"]);
    assert_eq!(r.stdout, "db.DB_PASSWORD\ndb.DB_PORT\napi.API_TOKEN\n");

    // A key that cannot be a variable name: named in the error, the file kept.
    bao.kv_put(
        "hosts/t2/api",
        &json!({ "API_TOKEN": token, "api-url": "x" }),
    );
    let r = run(&spec, &["fetch", "app.env"]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert_logged(
        &r.stderr,
        "template app.env: secret api: key \"api-url\" is not a valid environment variable name",
    );
    assert!(read(&rendered(&host, "app.env")).contains("API_TOKEN="));
}

#[test]
fn check_lists_every_unknown_placeholder_and_fetch_names_are_checked() {
    let host = Host::new();
    let spec = spec_with(
        &host,
        "http://127.0.0.1:1",
        json!({ "db": { "secretPath": "a/db" } }),
        json!({
            "a.conf": { "content": "u={{ db.user }}\np={{ dbb.password }} h={{ web.host }}\n" },
            "b.env": { "envFrom": ["db", "cache"] },
            "c.conf": { "content": "x", "envFrom": ["db"] }
        }),
    );
    let r = run(&spec, &["check"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for want in [
        "4 problems",
        "templates.a.conf.content: line 2 column 3: {{ dbb.password }} names an unknown secret: \"dbb\" is not in secrets (known: db)",
        "templates.a.conf.content: line 2 column 24: {{ web.host }} names an unknown secret",
        "templates.b.env.envFrom[1]: \"cache\" is not in secrets",
        "templates.c.conf: has both content and envFrom",
    ] {
        assert_logged(&r.stderr, want);
    }

    let spec = spec_with(
        &host,
        "http://127.0.0.1:1",
        json!({ "db": { "secretPath": "a/db" } }),
        json!({ "a.conf": { "content": "u={{ db.user }}" } }),
    );
    let r = run(&spec, &["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("valid, 1 secret(s), 1 template(s)"),
        "{}",
        r.stdout
    );
    let r = run(&spec, &["fetch", "nope"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_logged(
        &r.stderr,
        "no secret or template named \"nope\" in the spec (secrets: db; templates: a.conf)",
    );
    let r = run(&spec, &["render", "--template", "db", "--dry-run"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_logged(&r.stderr, "no template named \"db\"");
}

#[test]
fn a_file_vaultkeeper_did_not_write_is_never_overwritten() {
    let (bao, host) = dev_host("t3");
    bao.kv_put("hosts/t3/db", &json!({ "pw": secret("pw") }));
    let spec = spec_with(
        &host,
        &bao.addr,
        json!({ "db": { "secretPath": "hosts/t3/db" } }),
        json!({ "db.conf": { "content": "pw={{ db.pw }}\n" } }),
    );
    let out = rendered(&host, "db.conf");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, "the operator's own file\n").unwrap();
    let r = run(&spec, &["fetch"]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert_logged(&r.stderr, &format!(
            "template db.conf: {} is a file that vaultkeeper did not write; move it away or set another path",
            out.display()
        ));
    assert_eq!(read(&out), "the operator's own file\n");
    // Moved away: vaultkeeper renders, and from then on the path is its own.
    std::fs::remove_file(&out).unwrap();
    assert_eq!(run(&spec, &["fetch"]).code, 0);
    std::fs::write(&out, "tampered\n").unwrap();
    assert_eq!(run(&spec, &["fetch"]).code, 0);
    assert!(read(&out).starts_with("pw=vksecret-pw-"));
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0751"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .unwrap()
            .success();
        assert!(
            ok,
            "cannot mount a tmpfs at {} (this test needs root)",
            at.display()
        );
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_file_system_keeps_the_previous_version_and_no_debris() {
    let (bao, host) = dev_host("t4");
    let small = secret("small");
    bao.kv_put("hosts/t4/db", &json!({ "PW": small }));
    let spec = spec_with(
        &host,
        &bao.addr,
        json!({ "db": { "secretPath": "hosts/t4/db" } }),
        json!({ "db.env": { "envFrom": ["db"] } }),
    );
    let out = rendered(&host, "db.env");
    let _fs = Tmpfs::mount(out.parent().unwrap(), "64k");
    assert_eq!(run(&spec, &["fetch"]).code, 0);
    assert_eq!(read(&out), format!("PW=\"{small}\"\n"));

    let big = format!("{}{}", secret("big"), "x".repeat(256 << 10));
    bao.kv_put("hosts/t4/db", &json!({ "PW": big }));
    let r = run(&spec, &["fetch"]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(
        r.stderr.contains("template db.env: cannot write")
            && r.stderr.contains("No space left on device"),
        "{}",
        r.stderr
    );
    assert_eq!(read(&out), format!("PW=\"{small}\"\n"));
    let names: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["db.env"], "a partial temporary file was left");

    // The value shrinks again: rendered.
    let small2 = secret("small2");
    bao.kv_put("hosts/t4/db", &json!({ "PW": small2 }));
    assert_eq!(run(&spec, &["fetch"]).code, 0);
    assert_eq!(read(&out), format!("PW=\"{small2}\"\n"));
}

#[test]
fn concurrent_renders_beside_a_changing_secret_always_leave_one_complete_version() {
    let (bao, host) = dev_host("t5");
    let versions: Vec<(String, String)> = (0..6)
        .map(|i| (secret(&format!("u{i}")), secret(&format!("p{i}"))))
        .collect();
    bao.kv_put(
        "hosts/t5/db",
        &json!({ "user": versions[0].0, "password": versions[0].1 }),
    );
    let spec = spec_with(
        &host,
        &bao.addr,
        json!({ "db": { "secretPath": "hosts/t5/db" } }),
        json!({ "db.conf": { "content": "user={{ db.user }}\npassword={{ db.password }}\n" } }),
    );
    assert_eq!(run(&spec, &["fetch"]).code, 0);
    let out = rendered(&host, "db.conf");
    let complete = |text: &str| {
        versions
            .iter()
            .any(|(u, p)| text == format!("user={u}\npassword={p}\n"))
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A reader checking the file all along: never partial, never a mix.
    let reader = {
        let (out, stop) = (out.clone(), stop.clone());
        let versions = versions.clone();
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let text = String::from_utf8(std::fs::read(&out).unwrap()).unwrap();
                assert!(
                    versions
                        .iter()
                        .any(|(u, p)| text == format!("user={u}\npassword={p}\n")),
                    "a partial or mixed file was visible"
                );
                reads += 1;
            }
            reads
        })
    };
    // Each round: four `render --template` processes (each holding the secret's
    // lock while it reads the data and renames its file) beside one `fetch`
    // that renders the template from the new data.
    for (u, p) in &versions[1..] {
        bao.kv_put("hosts/t5/db", &json!({ "user": u, "password": p }));
        let renders: Vec<_> = (0..4)
            .map(|_| {
                let spec = spec.clone();
                std::thread::spawn(move || run(&spec, &["render", "--template", "db.conf"]))
            })
            .collect();
        let f = run(&spec, &["fetch", "db.conf"]);
        assert_eq!(f.code, 0, "{}", f.stderr);
        for r in renders {
            let r = r.join().unwrap();
            assert_eq!(r.code, 0, "{}", r.stderr);
        }
        // The renders may have finished before the fetch: once more, from the new data.
        assert_eq!(run(&spec, &["render", "--template", "db.conf"]).code, 0);
        assert_eq!(read(&out), format!("user={u}\npassword={p}\n"));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    assert!(complete(&read(&out)));
    let names: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["db.conf"], "temporary files were left behind");
    eprintln!("concurrent renders: 25 writers, {reads} reads, every one a complete version");
}
