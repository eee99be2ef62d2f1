//! Credentials against a real OpenBao: every token a command makes is revoked,
//! bootstrap proves which AppRole it got, `provision` cannot be injected and
//! cleans up after itself, logins do not trip the AppRole lockout.

mod support;

use serde_json::json;
use std::path::Path;
use support::bao::Bao;
use support::run::{secret, vaultkeeper, Run};
use support::spec::{files, Host};

/// AppRole login leases alive on the server (each is a live host token).
fn approle_leases(bao: &Bao) -> usize {
    let out = bao.cli_output_env(
        &["list", "-format=json", "sys/leases/lookup/auth/approle/login"],
        &[],
    );
    if !out.status.success() {
        // `bao list -format=json` exits 2 printing `{}` when there is none.
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(o.trim() == "{}" || e.contains("No value found"), "{o}{e}");
        return 0;
    }
    serde_json::from_slice::<Vec<String>>(&out.stdout)
        .unwrap()
        .len()
}

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
    let r = cmd(&spec, &["posture"]);
    assert!(r.code == 0, "{}", r.stderr);
    assert_eq!(approle_leases(&bao), 0, "10 fetches and 2 reports left tokens alive");

    // The control: a login nobody revokes is a lease (the count can fail).
    bao.cli(&[
        "write",
        "auth/approle/login",
        &format!("role_id={role_id}"),
        &format!("secret_id={secret_id}"),
    ]);
    assert_eq!(approle_leases(&bao), 1);
}
