//! Credentials against a real OpenBao: every token a command makes is revoked,
//! bootstrap proves which AppRole it got, `provision` cannot be injected and
//! cleans up after itself, logins do not trip the AppRole lockout.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use std::path::Path;
use support::bao::Bao;
use support::logged::assert_logged;
use support::run::{secret, vaultkeeper, Run};
use support::spec::{files, Host};

fn cmd(spec: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--spec", spec.to_str().unwrap()];
    all.extend_from_slice(args);
    vaultkeeper(&all, &[])
}

#[test]
fn one_shot_commands_revoke_their_token() {
    let bao = Bao::dev();
    let host = Host::new();
    let (role_id, secret_id) = bao.approle("h1");
    host.write_credentials(&role_id, &secret_id);
    let pw = secret("pw");
    bao.kv_put("hosts/h1/app", &json!({ "password": pw }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/h1/app" },
                "missing": { "secretPath": "hosts/h1/missing" } }),
    ));
    // Success...
    for _ in 0..5 {
        let r = cmd(&spec, &["fetch", "app"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // ...and error (a secret that does not exist: exit 5 after the login).
    for _ in 0..5 {
        let r = cmd(&spec, &["fetch"]);
        assert_eq!(r.code, 5, "{}", r.stderr);
    }
    assert_eq!(files(&host.out("app"))["password"], pw);
    // Insights commands log in too.
    let r = cmd(&spec, &["status"]);
    assert!(r.code == 0, "{}", r.stderr);
    // (A host policy reads none of posture's paths: the report is printed and
    // the exit is 4, "denied"; the login and its revocation happen all the same.)
    let r = cmd(&spec, &["posture"]);
    assert!(r.code == 4, "{}", r.stderr);
    assert_eq!(
        bao.approle_leases(),
        0,
        "10 fetches and 2 reports left tokens alive"
    );

    // The control: a login nobody revokes is a lease (the count can fail).
    bao.cli(&[
        "write",
        "auth/approle/login",
        &format!("role_id={role_id}"),
        &format!("secret_id={secret_id}"),
    ]);
    assert_eq!(bao.approle_leases(), 1);
}

fn provision(bao: &Bao, token: &str, args: &[&str]) -> Run {
    let mut all = vec!["provision"];
    all.extend_from_slice(args);
    let r = vaultkeeper(&all, &[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", token)]);
    if r.code == 0 {
        support::run::register_secret(r.stdout.trim());
    }
    r
}

/// Any `default`-policy token can wrap a bundle of credentials with
/// `sys/wrapping/wrap`: the creation path is the right one, the credentials are
/// another role's. Bootstrap logs in, sees the role and refuses.
#[test]
fn bootstrap_refuses_another_roles_credentials_wrapped_by_a_default_token() {
    let bao = Bao::dev();
    let (role_b, secret_b) = bao.approle("intruder");
    let _ = bao.approle("web01");
    let default_token = bao.token_create(&["-policy=default"]);
    let w = bao.cli_output_as(
        &default_token,
        &[
            "write",
            "-format=json",
            "-wrap-ttl=1h",
            "sys/wrapping/wrap",
            &format!("role_id={role_b}"),
            &format!("secret_id={secret_b}"),
        ],
        &[("BAO_FORMAT", "json")],
    );
    assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    let wrapped: serde_json::Value = serde_json::from_slice(&w.stdout).unwrap();
    let token = wrapped["wrap_info"]["token"].as_str().unwrap().to_string();
    support::run::register_secret(&token);
    assert_eq!(
        bao.cli_json(&["write", "sys/wrapping/lookup", &format!("token={token}")])["data"]
            ["creation_path"],
        "sys/wrapping/wrap"
    );

    let host = Host::new();
    let mut spec = host.spec(&bao.addr, json!({}));
    spec["approle"]["roleName"] = json!("web01");
    let spec = host.write_spec(&spec);
    let r = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "bootstrap", "--strict"],
        &[("VAULT_WRAPPED_TOKEN", &token)],
    );
    assert_eq!(r.code, 14, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("log in as AppRole role \"intruder\", and this host must be \"web01\""),
        "{}",
        r.stderr
    );
    assert!(!host.path("state/approle/role-id").exists());
    assert!(!host.path("state/approle/secret-id").exists());
    assert_eq!(
        bao.approle_leases(),
        0,
        "the test login's token was not revoked"
    );

    // The host's own credentials, provisioned for it, are accepted (and the
    // test login's token is revoked too).
    let r = provision(&bao, "root", &["--host", "web01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let own = r.stdout.trim().to_string();
    let r = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "bootstrap", "--strict"],
        &[("VAULT_WRAPPED_TOKEN", &own)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("log in as AppRole role \"web01\", this host's"),
        "{}",
        r.stderr
    );
    assert!(host.path("state/approle/secret-id").exists());
    assert_eq!(bao.approle_leases(), 0);
}

#[test]
fn provision_refuses_injection_and_writes_nothing() {
    let bao = Bao::dev();
    let before = bao.cli(&["policy", "list"]);
    let injection = "a\" {}\npath \"sys/*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\npath \"b";
    for (flag, value) in [
        ("--kv-mount", injection),
        ("--path-prefix", "*"),
        ("--path-prefix", "../.."),
        ("--path-prefix", ""),
        ("--approle-mount", "approle/../sys"),
        ("--host", "web01\"x"),
    ] {
        let r = provision(&bao, "root", &["--host", "evil", flag, value]);
        assert_eq!(r.code, 2, "{flag} {value:?}: {}", r.stderr);
        assert_logged(&r.stderr, flag);
        assert!(r.stdout.is_empty());
    }
    assert_eq!(bao.cli(&["policy", "list"]), before);
    let auths = bao.cli_json(&["auth", "list"]);
    assert!(auths.get("approle/").is_none(), "{auths}");
}

#[test]
fn provision_dry_run_prints_and_calls_nothing() {
    // No Vault at all: a dry run does not need one.
    let r = vaultkeeper(
        &["provision", "--host", "web09", "--dry-run"],
        &[("VAULT_ADDR", "http://127.0.0.1:1")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("path \"secret/data/hosts/web09/*\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("# role auth/approle/role/web09"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"token_policies\""), "{}", r.stdout);
}

/// A token that may do everything an admin does except wrap: provision fails
/// at the last step and removes what it created (policy, role, AppRole mount);
/// an existing policy is restored.
#[test]
fn a_failed_provision_rolls_back_what_it_created() {
    let bao = Bao::dev();
    bao.policy_write(
        "no-wrap",
        "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\n\
         path \"sys/wrapping/wrap\" { capabilities = [\"deny\"] }\n",
    );
    let admin = bao.token_create(&["-policy=no-wrap"]);
    let r = provision(&bao, &admin, &["--host", "web07"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, "rolling back");
    assert!(r.stdout.is_empty());
    let policies = bao.cli(&["policy", "list"]);
    assert!(!policies.contains("host-web07"), "{policies}");
    let auths = bao.cli_json(&["auth", "list"]);
    assert!(
        auths.get("approle/").is_none(),
        "the AppRole mount was left: {auths}"
    );

    // With the mount, the role and the policy already there (a re-provision),
    // the failed run restores the old policy and leaves the role.
    let r = provision(&bao, "root", &["--host", "web07", "--path-prefix", "old"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = bao.cli(&["policy", "read", "host-web07"]);
    let r = provision(&bao, &admin, &["--host", "web07", "--path-prefix", "new"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert_eq!(bao.cli(&["policy", "read", "host-web07"]), old);
    assert!(bao.cli_json(&["auth", "list"]).get("approle/").is_some());
    assert!(bao
        .cli_output(&["read", "auth/approle/role/web07"])
        .status
        .success());
    // the secret-id the failed run generated was destroyed: only the first run's is left
    let ids = bao.cli_json(&["list", "auth/approle/role/web07/secret-id"]);
    assert_eq!(ids.as_array().unwrap().len(), 1, "{ids}");
}
