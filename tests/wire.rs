//! Safe on the wire: where credentials can go, how much is read, whose TLS
//! counts. `vaultkeeper fetch` against fake Vault servers that redirect, send
//! 2 GB, or present certificates that must not verify.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use std::path::{Path, PathBuf};
use support::fake::{vault_like, Fake, Pki, Reply};
use support::logged::{assert_logged, assert_not_logged};
use support::run::{secret, vaultkeeper, vaultkeeper_prefixed, Run};
use support::spec::{files, Host};

fn fetch(spec: &Path) -> Run {
    vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch"], &[])
}

/// A host with credentials and one secret `app` at `hosts/h1/app`, Vault at `addr`.
fn host_for(addr: &str, vault_extra: serde_json::Value) -> (Host, PathBuf) {
    let host = Host::new();
    host.write_credentials("fake-role-id", &secret("secretid"));
    let mut spec = host.spec(addr, json!({ "app": { "secretPath": "hosts/h1/app" } }));
    for (k, v) in vault_extra.as_object().unwrap() {
        spec["vault"][k] = v.clone();
    }
    let path = host.write_spec(&spec);
    (host, path)
}

fn assert_has(r: &Run, needles: &[&str]) {
    for n in needles {
        assert_logged(&r.stderr, n);
    }
}

#[test]
fn a_redirect_to_another_origin_sends_it_nothing() {
    let recorder = Fake::http(|_| Reply::Empty(200));
    let to = recorder.addr.clone();
    // 1. The login (role_id, secret_id in its body) redirected elsewhere.
    let vault = Fake::http(vault_like(secret("token"), json!({}), move |req| {
        req.path
            .ends_with("/login")
            .then(|| Reply::Redirect(307, format!("{to}/v1/auth/approle/login")))
    }));
    let (_host, spec) = host_for(&vault.addr, json!({}));
    let r = fetch(&spec);
    assert_eq!(r.code, 32, "{}", r.stderr);
    assert_has(
        &r,
        &[
            "REFUSED a redirect",
            &vault.addr,
            &recorder.addr,
            "not one of the configured Vault addresses",
        ],
    );
    assert_eq!(vault.requests().len(), 1);

    // 2. A secret read (X-Vault-Token) redirected elsewhere, with 308 and a
    //    relative-looking absolute URL.
    let to = recorder.addr.clone();
    let vault2 = Fake::http(vault_like(secret("token"), json!({}), move |req| {
        req.path
            .starts_with("/v1/secret/")
            .then(|| Reply::Redirect(308, format!("{to}{}", req.path)))
    }));
    let (host2, spec2) = host_for(&vault2.addr, json!({}));
    let r = fetch(&spec2);
    assert_eq!(r.code, 32, "{}", r.stderr);
    assert_has(&r, &["REFUSED a redirect", &recorder.addr]);
    assert!(!host2.out("app").exists());

    assert_eq!(
        recorder.connections(),
        0,
        "the other origin was contacted: {:?}",
        recorder.requests()
    );
}

#[test]
fn redirects_within_the_configured_vault_are_followed_at_most_three_times() {
    let password = secret("pw");
    // login at /login → 307 → /v1/auth/approle/login-standby (same origin): followed.
    // Any secret read under hosts/h1/loop redirects to itself forever.
    let vault = Fake::http(vault_like(
        secret("token"),
        json!({ "password": password }),
        |req| {
            if req.path == "/v1/auth/approle/login" {
                return Some(Reply::Redirect(
                    307,
                    "/v1/auth/approle/login-standby".into(),
                ));
            }
            req.path
                .contains("/loop")
                .then(|| Reply::Redirect(307, req.path.clone()))
        },
    ));
    let (host, spec) = host_for(&vault.addr, json!({}));
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&host.out("app"))["password"], password);
    let logins: Vec<_> = vault
        .requests()
        .into_iter()
        .filter(|q| q.path.contains("login"))
        .collect();
    assert_eq!(logins.len(), 2, "{logins:?}");
    // the redirected login carried its body again
    assert_eq!(logins[0].body, logins[1].body);

    let mut s: serde_json::Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    s["secrets"]["app"]["secretPath"] = json!("hosts/h1/loop");
    std::fs::write(&spec, s.to_string()).unwrap();
    let before = vault.requests().len();
    let r = fetch(&spec);
    assert_eq!(r.code, 32, "{}", r.stderr);
    assert_has(&r, &["more than 3 redirects"]);
    let reads = vault.requests()[before..]
        .iter()
        .filter(|q| q.path.contains("/loop"))
        .count();
    assert_eq!(reads, 4, "one request and three redirects followed");
}

#[test]
fn a_2gb_answer_is_refused_under_a_256mib_address_space_limit() {
    for declared in [false, true] {
        let vault = Fake::http(vault_like(secret("token"), json!({}), move |req| {
            req.path.starts_with("/v1/secret/").then_some(Reply::Huge {
                len: 2 << 30,
                declared,
            })
        }));
        let (host, spec) = host_for(&vault.addr, json!({}));
        let r = vaultkeeper_prefixed(
            &["prlimit", "--as=268435456", "--core=0", "--"],
            &["--spec", spec.to_str().unwrap(), "fetch"],
            &[],
        );
        assert_eq!(r.code, 33, "declared={declared}: {}", r.stderr);
        assert_has(&r, &["larger than vault.maxResponseSize (33554432 bytes)"]);
        assert!(!host.out("app").exists());
        // streamed and stopped near the cap, not read to the end
        let sent = vault.bytes_sent();
        assert!(
            sent < 200 << 20,
            "declared={declared}: the server wrote {sent} bytes before the client hung up"
        );
    }
}

#[test]
fn max_response_size_is_the_specs() {
    let password = secret("pw");
    let vault = Fake::http(vault_like(
        secret("token"),
        json!({ "password": password, "padding": "x".repeat(100_000) }),
        |_| None,
    ));
    let (_host, spec) = host_for(&vault.addr, json!({ "maxResponseSize": "64KiB" }));
    let r = fetch(&spec);
    assert_eq!(r.code, 33, "{}", r.stderr);
    assert_has(&r, &["larger than vault.maxResponseSize (65536 bytes)"]);
    let (host, spec) = host_for(&vault.addr, json!({ "maxResponseSize": "1MiB" }));
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&host.out("app"))["password"], password);
}

fn write_ca(host: &Host, pem: &str) -> String {
    let p = host.path("ca.pem");
    std::fs::write(&p, pem).unwrap();
    p.display().to_string()
}

/// A host trusting `trusted`, for a TLS fake Vault at `addr`.
fn tls_host(addr: &str, trusted: &Pki) -> (Host, PathBuf) {
    let (host, _) = host_for(addr, json!({}));
    let ca = write_ca(&host, &trusted.ca_pem);
    let mut spec = host.spec(addr, json!({ "app": { "secretPath": "hosts/h1/app" } }));
    spec["vault"]["caCert"] = json!(ca);
    let path = host.write_spec(&spec);
    (host, path)
}

#[test]
fn tls_is_the_specs_and_failures_are_named() {
    let ours = Pki::new("ours");
    let theirs = Pki::new("theirs");
    let password = secret("pw");
    let handler = || vault_like(secret("token"), json!({ "password": password }), |_| None);

    // Trusted CA, right name: works.
    let good = Fake::https(ours.server(&["127.0.0.1", "localhost"]), handler());
    let (host, spec) = tls_host(&good.addr, &ours);
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&host.out("app"))["password"], password);

    // Signed by another CA: not trusted, even with VAULT_SKIP_VERIFY=1 and
    // VAULT_CACERT pointing at their CA in the environment.
    let untrusted = Fake::https(theirs.server(&["127.0.0.1"]), handler());
    let (host, spec) = tls_host(&untrusted.addr, &ours);
    let their_ca = host.path("their-ca.pem");
    std::fs::write(&their_ca, &theirs.ca_pem).unwrap();
    let r = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "fetch"],
        &[
            ("VAULT_SKIP_VERIFY", "1"),
            ("BAO_SKIP_VERIFY", "true"),
            ("VAULT_CACERT", their_ca.to_str().unwrap()),
        ],
    );
    assert_eq!(r.code, 30, "{}", r.stderr);
    assert_has(
        &r,
        &[
            "NOT TRUSTED",
            "may be an attack",
            "VAULT_SKIP_VERIFY=1 is IGNORED",
            "BAO_SKIP_VERIFY=true is IGNORED",
            "VAULT_CACERT",
            "is ignored",
        ],
    );
    assert_not_logged(&r.stderr, "unreachable");
    assert!(
        untrusted.requests().is_empty(),
        "an HTTP request went over an unverified connection"
    );
    assert!(!host.out("app").exists());

    // Trusted CA, certificate for another name.
    let wrong_name = Fake::https(ours.server(&["vault.example.org"]), handler());
    let (_host, spec) = tls_host(&wrong_name.addr, &ours);
    let r = fetch(&spec);
    assert_eq!(r.code, 31, "{}", r.stderr);
    assert_has(&r, &["not valid for that host name", "may be an attack"]);
    assert!(wrong_name.requests().is_empty());
}

#[test]
fn a_tls_failure_serves_the_cache_with_an_error_saying_it_may_be_an_attack() {
    let ours = Pki::new("ours");
    let theirs = Pki::new("theirs");
    let password = secret("pw");
    let handler = || vault_like(secret("token"), json!({ "password": password }), |_| None);
    let good = Fake::https(ours.server(&["127.0.0.1"]), handler());
    let port = good.port;
    let (host, spec) = tls_host(&good.addr, &ours);
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    drop(good);

    // Someone else answers on Vault's address.
    let _mitm = Fake::https_on(port, theirs.server(&["127.0.0.1"]), handler());
    std::fs::remove_dir_all(host.out("app")).unwrap();
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_has(
        &r,
        &[
            "ERROR",
            "NOT TRUSTED",
            "may be an attack",
            "last-known-good cache",
        ],
    );
    assert_eq!(files(&host.out("app"))["password"], password);
}

#[test]
fn a_bad_ca_cert_is_a_configuration_error_already_at_check() {
    let (host, _) = host_for("https://127.0.0.1:1", json!({}));
    let ca = write_ca(&host, "this is not a certificate\n");
    let mut spec = host.spec(
        "https://127.0.0.1:1",
        json!({ "app": { "secretPath": "hosts/h1/app" } }),
    );
    spec["vault"]["caCert"] = json!(ca);
    let path = host.write_spec(&spec);
    let p = path.to_str().unwrap();
    let r = vaultkeeper(&["--spec", p, "check"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_has(&r, &["vault.caCert", "holds no PEM certificate"]);
    let r = vaultkeeper(&["--spec", p, "fetch"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_has(&r, &["vault.caCert", "holds no PEM certificate"]);
    assert_not_logged(&r.stderr, "unreachable");
    // A caCert that does not exist yet is fine for check (deployed later)...
    std::fs::remove_file(&ca).unwrap();
    let r = vaultkeeper(&["--spec", p, "check"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // ...but not for fetch.
    let r = vaultkeeper(&["--spec", p, "fetch"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_has(&r, &["vault.caCert", "cannot read it"]);
}

#[test]
fn vault_addr_in_the_environment_does_not_move_credentials() {
    let elsewhere = Fake::http(|_| Reply::Empty(200));
    let password = secret("pw");
    let vault = Fake::http(vault_like(
        secret("token"),
        json!({ "password": password }),
        |_| None,
    ));
    let (host, spec) = host_for(&vault.addr, json!({}));
    let r = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "fetch"],
        &[
            ("VAULT_ADDR", &elsewhere.addr),
            ("BAO_ADDR", &elsewhere.addr),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_has(
        &r,
        &["is IGNORED: credentials go only to the spec's vault.address"],
    );
    assert_eq!(files(&host.out("app"))["password"], password);
    assert_eq!(elsewhere.connections(), 0);
}

/// As a non-root user, the user's own running fetch cannot be read through
/// /proc (environ, mem) nor dump a core: its /proc files belong to root.
#[test]
fn a_running_fetch_is_not_dumpable_even_by_its_own_user() {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let nobody = 65534;
    // Vault answers the login after 4 s: the fetch is alive meanwhile.
    let vault = Fake::http(vault_like(secret("token"), json!({}), |req| {
        if req.path.starts_with("/v1/auth/approle/login") {
            std::thread::sleep(std::time::Duration::from_secs(4));
        }
        None
    }));
    let (host, spec) = host_for(&vault.addr, json!({}));
    for e in walk(host.root.path()) {
        std::os::unix::fs::lchown(&e, Some(nobody), Some(nobody)).unwrap();
    }
    let mut child = std::process::Command::new(support::run::bin())
        .args(["--spec", spec.to_str().unwrap(), "fetch"])
        .env("VAULT_WRAPPED_TOKEN", "")
        .env_remove("VAULT_ADDR")
        .uid(nobody)
        .gid(nobody)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while vault.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "fetch never logged in"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let proc_dir = format!("/proc/{}", child.id());
    let environ = std::fs::metadata(format!("{proc_dir}/environ")).unwrap();
    let status = std::fs::read_to_string(format!("{proc_dir}/status")).unwrap();
    let limits = std::fs::read_to_string(format!("{proc_dir}/limits")).unwrap();
    let _ = child.wait();
    assert!(
        status.contains(&format!("Uid:\t{nobody}")),
        "the fetch does not run as nobody:\n{status}"
    );
    assert_eq!(
        environ.uid(),
        0,
        "/proc/PID/environ of a fetch running as nobody belongs to uid {}: the process is dumpable",
        environ.uid()
    );
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert!(
        core.split_whitespace().nth(4) == Some("0"),
        "core size limit not 0: {core}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
