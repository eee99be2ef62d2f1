//! `vaultkeeper bootstrap` and `provision` against a real OpenBao.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

#[path = "bootstrap/pin.rs"]
mod pin;

use serde_json::json;
use std::os::unix::fs::MetadataExt;
use support::bao::Bao;
use support::logged::assert_logged;
use support::run::{register_secret, vaultkeeper};
use support::spec::Host;

fn provision(bao: &Bao, host: &str, extra: &[&str]) -> String {
    let mut args = vec!["provision", "--host", host];
    args.extend_from_slice(extra);
    let r = vaultkeeper(&args, &[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", "root")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token = r.stdout.trim().to_string();
    register_secret(&token);
    assert_eq!(
        r.stdout.lines().count(),
        1,
        "provision prints only the token"
    );
    token
}

/// The spec of a host provisioned as `role` (approle.roleName).
fn spec_as(host: &Host, addr: &str, role: &str, secrets: serde_json::Value) -> std::path::PathBuf {
    let mut spec = host.spec(addr, secrets);
    spec["approle"]["roleName"] = json!(role);
    host.write_spec(&spec)
}

fn bootstrap(spec: &std::path::Path, token: Option<&str>, strict: bool) -> support::run::Run {
    let spec = spec.to_str().unwrap();
    let mut args = vec!["--spec", spec, "bootstrap"];
    if strict {
        args.push("--strict");
    }
    match token {
        Some(t) => vaultkeeper(&args, &[("VAULT_WRAPPED_TOKEN", t)]),
        None => vaultkeeper(&args, &[]),
    }
}

#[test]
fn provision_bootstrap_fetch_round_trip() {
    let bao = Bao::dev();
    let host = Host::new();
    let pw = support::run::secret("db-password");
    bao.kv_put("hosts/web01/db", &json!({ "password": pw, "user": "app" }));
    let token = provision(&bao, "web01", &[]);
    assert!(
        token.starts_with("s.") || token.starts_with("hvs."),
        "not a token: {token}"
    );

    // The policy is exactly the host's subtree.
    let policy = bao.cli(&["policy", "read", "host-web01"]);
    assert!(
        policy.contains("secret/data/hosts/web01/*")
            && policy.contains("secret/metadata/hosts/web01/*"),
        "{policy}"
    );
    let role = bao.cli_json(&["read", "auth/approle/role/web01"]);
    assert_eq!(role["data"]["token_ttl"], 3600);
    assert_eq!(role["data"]["token_policies"], json!(["host-web01"]));

    let spec = spec_as(
        &host,
        &bao.addr,
        "web01",
        json!({ "db": { "secretPath": "hosts/web01/db" } }),
    );
    let r = bootstrap(&spec, Some(&token), true);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, "bootstrapped: stored role-id");
    let dir = host.path("state/approle");
    assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o7777, 0o700);
    for f in ["role-id", "secret-id"] {
        let m = std::fs::metadata(dir.join(f)).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o600, "{f}");
        assert_eq!(m.uid(), 0);
    }
    let role_id =
        bao.cli_json(&["read", "auth/approle/role/web01/role-id"])["data"]["role_id"].clone();
    assert_eq!(
        std::fs::read_to_string(dir.join("role-id")).unwrap().trim(),
        role_id.as_str().unwrap()
    );

    // Nothing to do the second time, even without a token.
    let r = bootstrap(&spec, None, true);
    assert_eq!(r.code, 0);
    assert_logged(&r.stderr, "already bootstrapped");

    let r = vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(host.out("db").join("password")).unwrap(),
        pw
    );

    // provision is idempotent: a second run updates and issues a new token.
    let token2 = provision(&bao, "web01", &["--token-ttl", "30m"]);
    assert_ne!(token, token2);
    assert_eq!(
        bao.cli_json(&["read", "auth/approle/role/web01"])["data"]["token_ttl"],
        1800
    );
}

#[test]
fn a_second_unwrap_is_reported_as_already_used_and_the_boot_goes_on() {
    let bao = Bao::dev();
    let host = Host::new();
    let token = provision(&bao, "web02", &[]);
    let spec = spec_as(&host, &bao.addr, "web02", json!({}));
    assert_eq!(bootstrap(&spec, Some(&token), false).code, 0);
    std::fs::remove_file(host.path("state/approle/secret-id")).unwrap();

    let r = bootstrap(&spec, Some(&token), false);
    assert_eq!(r.code, 0, "the boot must go on");
    assert_logged(&r.stderr, "wrapped token was ALREADY USED");
    assert_logged(&r.stderr, "vaultkeeper provision --host NAME");
    let r = bootstrap(&spec, Some(&token), true);
    assert_eq!(r.code, 10, "{}", r.stderr);
}

#[test]
fn a_token_used_by_someone_else_is_reported_as_used_or_expired() {
    let bao = Bao::dev();
    let host = Host::new();
    let token = provision(&bao, "web03", &[]);
    let out = bao.cli_output(&["unwrap", &token]);
    assert!(out.status.success(), "the thief's unwrap works");
    let spec = spec_as(&host, &bao.addr, "web03", json!({}));
    let r = bootstrap(&spec, Some(&token), true);
    assert_eq!(r.code, 13, "{}", r.stderr);
    assert_logged(&r.stderr, "already used or has expired");
    assert_logged(&r.stderr, "check the audit log");
    assert!(!host.path("state/approle/secret-id").exists());
}

#[test]
fn an_expired_token_is_reported_as_expired() {
    let bao = Bao::dev();
    let host = Host::new();
    let (role_id, _) = bao.approle("web04");
    // A plain wrapped secret-id, 3 seconds to live.
    let w = bao.cli_json(&[
        "write",
        "-f",
        "-wrap-ttl=3s",
        "auth/approle/role/web04/secret-id",
    ]);
    let token = w["wrap_info"]["token"].as_str().unwrap().to_string();
    register_secret(&token);
    let spec = spec_as(&host, &bao.addr, "web04", json!({}));

    // First boot: the role-id is not there yet, so the token is looked up but kept.
    let r = bootstrap(&spec, Some(&token), true);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_logged(&r.stderr, "there is no role-id at");
    assert_logged(&r.stderr, "was NOT unwrapped");

    std::fs::create_dir_all(host.path("state/approle")).unwrap();
    support::spec::write_private(&host.path("state/approle/role-id"), &role_id);
    std::thread::sleep(std::time::Duration::from_secs(4));
    let r = bootstrap(&spec, Some(&token), false);
    assert_eq!(r.code, 0, "the boot must go on");
    assert_logged(&r.stderr, "wrapped token EXPIRED at");
    assert_logged(&r.stderr, "it lived 3s");
    assert_eq!(bootstrap(&spec, Some(&token), true).code, 11);
}

#[test]
fn a_plain_wrapped_secret_id_is_accepted_when_the_role_id_is_in_place() {
    let bao = Bao::dev();
    let host = Host::new();
    let (role_id, _) = bao.approle("web05");
    let w = bao.cli_json(&[
        "write",
        "-f",
        "-wrap-ttl=60s",
        "auth/approle/role/web05/secret-id",
    ]);
    let token = w["wrap_info"]["token"].as_str().unwrap().to_string();
    register_secret(&token);
    std::fs::create_dir_all(host.path("state/approle")).unwrap();
    support::spec::write_private(&host.path("state/approle/role-id"), &role_id);
    let spec = spec_as(&host, &bao.addr, "web05", json!({}));
    let r = bootstrap(&spec, Some(&token), true);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, "stored secret-id");
    let secret_id = std::fs::read_to_string(host.path("state/approle/secret-id")).unwrap();
    register_secret(secret_id.trim());
    // The stored secret-id logs in.
    let login = bao.cli_output(&[
        "write",
        "auth/approle/login",
        &format!("role_id={role_id}"),
        &format!("secret_id={}", secret_id.trim()),
    ]);
    assert!(login.status.success());
}

#[test]
fn a_token_with_a_foreign_creation_path_is_refused_and_not_unwrapped() {
    let bao = Bao::dev();
    let host = Host::new();
    let w = bao.cli_json(&["token", "create", "-policy=default", "-wrap-ttl=60s"]);
    let token = w["wrap_info"]["token"].as_str().unwrap().to_string();
    register_secret(&token);
    let spec = host.write_spec(&host.spec(&bao.addr, json!({})));
    let r = bootstrap(&spec, Some(&token), true);
    assert_eq!(r.code, 12, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("REFUSING the wrapped token: it was created at \"auth/token/create\""),
        "{}",
        r.stderr
    );
    assert_eq!(bootstrap(&spec, Some(&token), false).code, 0);
    // Still unused: a lookup succeeds.
    let look = bao.cli_json(&["write", "sys/wrapping/lookup", &format!("token={token}")]);
    assert_eq!(look["data"]["creation_path"], "auth/token/create");
}

#[test]
fn vault_unreachable_is_reported_and_the_boot_goes_on() {
    let host = Host::new();
    let port = support::bao::free_port();
    let spec = host.write_spec(&host.spec(&format!("http://127.0.0.1:{port}"), json!({})));
    let r = bootstrap(&spec, Some("s.notarealtoken000000000000"), false);
    assert_eq!(r.code, 0);
    assert_logged(&r.stderr, "is UNREACHABLE");
    assert_logged(&r.stderr, "bootstrap runs again at the next boot");
    assert_eq!(
        bootstrap(&spec, Some("s.notarealtoken000000000000"), true).code,
        6
    );
}

#[test]
fn no_token_anywhere_says_where_to_put_one() {
    let host = Host::new();
    let spec = host.write_spec(&host.spec("http://127.0.0.1:1", json!({})));
    let r = bootstrap(&spec, None, true);
    assert_eq!(r.code, 13);
    assert!(
        r.stderr
            .contains("neither the environment variable VAULT_WRAPPED_TOKEN nor the file (none)"),
        "{}",
        r.stderr
    );
}

#[test]
fn provision_terraform_prints_the_same_resources_without_vault() {
    let r = vaultkeeper(
        &[
            "--spec",
            "/nonexistent.json",
            "provision",
            "--host",
            "db01",
            "--terraform",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("resource \"vault_policy\" \"host_db01\""));
    assert!(r
        .stdout
        .contains("resource \"vault_approle_auth_backend_role\" \"db01\""));
    assert!(r.stdout.contains("path \"secret/data/hosts/db01/*\""));
}
