//! Trust on first use of the Vault address (src/pin.rs): a spec without one
//! (`"address": null, "addressFrom": "firstBoot"`, what the NixOS module writes
//! for the seed design's configurations) gets it from bootstrap's VAULT_ADDR,
//! pinned in <stateDir>/vault-address, and from nowhere else afterwards.

use super::{provision, support};
use crate::support::logged::assert_logged;
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use support::bao::Bao;
use support::fake::{Fake, Reply};
use support::run::{vaultkeeper, Run};
use support::spec::Host;

/// A first-boot spec (no address) for `role`, with one secret `db`.
fn first_boot_spec(host: &Host, role: &str, secret_path: &str) -> PathBuf {
    let mut spec = host.spec(
        "https://unused.example",
        json!({ "db": { "secretPath": secret_path } }),
    );
    spec["vault"]["address"] = json!(null);
    spec["vault"]["addressFrom"] = json!("firstBoot");
    spec["approle"]["roleName"] = json!(role);
    host.write_spec(&spec)
}

fn pin_file(host: &Host) -> PathBuf {
    host.state_dir().join("vault-address")
}

fn run(spec: &Path, cmd: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec!["--spec", spec.to_str().unwrap()];
    args.extend_from_slice(cmd);
    vaultkeeper(&args, env)
}

/// A server that must never hear from us: it counts connections.
fn elsewhere() -> Fake {
    Fake::http(|_| Reply::Empty(200))
}

#[test]
fn check_accepts_a_first_boot_spec_and_nothing_half_way() {
    let host = Host::new();
    let spec = first_boot_spec(&host, "web01", "hosts/web01/db");
    let r = run(&spec, &["check"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("valid, 1 secret(s)"), "{}", r.stdout);

    let text = std::fs::read_to_string(&spec).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // An address with addressFrom, a null address without it, an unknown source.
    for (address, from, expected) in [
        (
            json!("https://vault.example:8200"),
            json!("firstBoot"),
            "vault.addressFrom: is only for a spec without an address",
        ),
        (json!(null), json!(null), "vault.address: is not set"),
        (
            json!(null),
            json!("environment"),
            "\"environment\" is not \"firstBoot\"",
        ),
    ] {
        v["vault"]["address"] = address;
        v["vault"]["addressFrom"] = from;
        host.write_spec(&v);
        let r = run(
            &spec,
            &["check"],
            &[("VAULT_ADDR", "https://vault.example:8200")],
        );
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_logged(&r.stderr, expected);
    }
}

#[test]
fn bootstrap_pins_vault_addr_then_the_environment_never_moves_credentials() {
    let bao = Bao::dev();
    let host = Host::new();
    let pw = support::run::secret("pinned-db-password");
    bao.kv_put("hosts/pin01/db", &json!({ "password": pw }));
    let token = provision(&bao, "pin01", &[]);
    let spec = first_boot_spec(&host, "pin01", "hosts/pin01/db");

    // First boot: VAULT_ADDR beside the wrapped token, as cloud-init writes them.
    let r = run(
        &spec,
        &["bootstrap", "--strict"],
        &[("VAULT_ADDR", &bao.addr), ("VAULT_WRAPPED_TOKEN", &token)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, &format!("PINNED {}", bao.addr));
    assert_logged(&r.stderr, "bootstrapped: stored role-id");
    let pin = pin_file(&host);
    assert_eq!(
        std::fs::read_to_string(&pin).unwrap(),
        format!("{}\n", bao.addr)
    );
    let m = std::fs::symlink_metadata(&pin).unwrap();
    assert!(m.file_type().is_file());
    assert_eq!(m.mode() & 0o7777, 0o600);
    assert_eq!(m.uid(), 0);

    // fetch, status with nothing in the environment: the pinned address.
    let r = run(&spec, &["fetch"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(host.out("db").join("password")).unwrap(),
        pw
    );

    // Later, the environment names another server: it hears nothing, and every
    // command says the variable is ignored.
    let other = elsewhere();
    let moved: &[(&str, &str)] = &[("VAULT_ADDR", &other.addr), ("BAO_ADDR", &other.addr)];
    let r = run(&spec, &["fetch"], moved);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ignored = "is IGNORED: this host's Vault address was pinned at the first boot";
    assert_logged(&r.stderr, ignored);
    let r = run(&spec, &["status"], moved);
    assert_logged(&r.stderr, ignored);
    let r = run(&spec, &["bootstrap", "--strict"], moved);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(ignored) && r.stderr.contains("already bootstrapped"),
        "{}",
        r.stderr
    );

    // A new bootstrap (new token, credentials gone) with the other VAULT_ADDR:
    // the unwrap and the login still go to the pinned server only.
    std::fs::remove_file(host.path("state/approle/secret-id")).unwrap();
    let token2 = provision(&bao, "pin01", &[]);
    let mut env = moved.to_vec();
    env.push(("VAULT_WRAPPED_TOKEN", &token2));
    let r = run(&spec, &["bootstrap", "--strict"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, ignored);
    assert_logged(&r.stderr, "bootstrapped: stored");
    assert_eq!(
        std::fs::read_to_string(&pin).unwrap(),
        format!("{}\n", bao.addr)
    );
    assert_eq!(other.connections(), 0, "the other server was contacted");
}

#[test]
fn without_a_pinned_address_nothing_but_bootstrap_runs_and_nothing_is_contacted() {
    let host = Host::new();
    let spec = first_boot_spec(&host, "web01", "hosts/web01/db");
    host.write_credentials("role", "secret");
    let other = elsewhere();
    for cmd in [&["fetch"][..], &["status"], &["run"]] {
        let r = run(&spec, cmd, &[("VAULT_ADDR", &other.addr)]);
        assert_eq!(r.code, 2, "{cmd:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("set vault.address")
                && r.stderr
                    .contains("run `vaultkeeper bootstrap` with VAULT_ADDR"),
            "{cmd:?}: {}",
            r.stderr
        );
    }
    assert_eq!(other.connections(), 0);
    assert!(!pin_file(&host).exists());

    // bootstrap without VAULT_ADDR/BAO_ADDR: exit 2 (a configuration mistake), nothing pinned.
    let r = run(&spec, &["bootstrap"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_logged(&r.stderr, "neither BAO_ADDR nor VAULT_ADDR");
    assert!(!pin_file(&host).exists());
}

#[test]
fn an_invalid_vault_addr_is_not_pinned() {
    let host = Host::new();
    let spec = first_boot_spec(&host, "web01", "hosts/web01/db");
    for (addr, why) in [
        (
            "http://vault.example.org:8200",
            "plain http to a host that is not this machine",
        ),
        ("http://10.1.2.3:8200", "plain http"),
        ("garbage", "is not a Vault address"),
        ("https://user:pw@vault.example.org", "user name or password"),
        ("https://a.example https://b.example", "not one URL"),
    ] {
        for var in ["VAULT_ADDR", "BAO_ADDR"] {
            let r = run(
                &spec,
                &["bootstrap"],
                &[(var, addr), ("VAULT_WRAPPED_TOKEN", "hvs.notused")],
            );
            assert_eq!(r.code, 2, "{var}={addr}: {}", r.stderr);
            assert!(
                r.stderr.contains(why) && r.stderr.contains("nothing was pinned"),
                "{var}={addr}: {}",
                r.stderr
            );
            assert!(!pin_file(&host).exists(), "{var}={addr} was pinned");
        }
    }
}

#[test]
fn needs_root_an_unsafe_pinned_file_is_refused_and_left_alone() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test chowns files: run it as root (scripts/test.sh does)"
    );
    let host = Host::new();
    let spec = first_boot_spec(&host, "web01", "hosts/web01/db");
    host.write_credentials("role", "secret");
    let other = elsewhere();
    let pin = pin_file(&host);
    let good = format!("{}\n", other.addr);

    let write = |content: &str, mode: u32, uid: u32| {
        let _ = std::fs::remove_file(&pin);
        std::fs::write(&pin, content).unwrap();
        std::fs::set_permissions(&pin, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::lchown(&pin, Some(uid), Some(uid)).unwrap();
    };
    let target = host.path("planted-address");
    type Case<'a> = (&'a str, Box<dyn Fn() + 'a>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "symlink",
            Box::new(|| {
                let _ = std::fs::remove_file(&pin);
                std::fs::write(&target, &good).unwrap();
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
                std::os::unix::fs::symlink(&target, &pin).unwrap();
            }),
            "is a symlink",
        ),
        (
            "world-writable",
            Box::new(|| write(&good, 0o666, 0)),
            "mode 0666",
        ),
        (
            "group-readable",
            Box::new(|| write(&good, 0o640, 0)),
            "mode 0640",
        ),
        (
            "not root's",
            Box::new(|| write(&good, 0o600, 65534)),
            "owned by uid 65534",
        ),
        (
            "oversized",
            Box::new(|| write(&format!("https://{}.example\n", "a".repeat(5000)), 0o600, 0)),
            "more than the 4096 bytes",
        ),
        (
            "garbage",
            Box::new(|| write("not an address\n", 0o600, 0)),
            "is refused",
        ),
        (
            "plain http elsewhere",
            Box::new(|| write("http://vault.example.org:8200\n", 0o600, 0)),
            "plain http",
        ),
    ];
    for (what, make, why) in cases {
        make();
        let before = std::fs::symlink_metadata(&pin).unwrap();
        for cmd in [&["fetch"][..], &["bootstrap"]] {
            let r = run(&spec, cmd, &[("VAULT_ADDR", &other.addr)]);
            assert_eq!(r.code, 2, "{what} {cmd:?}: {}", r.stderr);
            assert!(
                r.stderr.contains(why) && r.stderr.contains("vault-address"),
                "{what} {cmd:?}: {}",
                r.stderr
            );
        }
        // Left as it was: bootstrap does not pin over what it did not write.
        let after = std::fs::symlink_metadata(&pin).unwrap();
        assert_eq!(
            (before.ino(), before.mode(), before.uid()),
            (after.ino(), after.mode(), after.uid()),
            "{what}"
        );
    }
    assert_eq!(other.connections(), 0);
}

/// A host migrated from the seed's module: vaultkeeper-adopt-credentials put
/// its AppRole credentials in place, so there is no token to unwrap; the
/// bootstrap unit (whose condition runs it while the address is not pinned,
/// tests/nix_module checks::seed_example_without_address_evaluates_with_a_warning)
/// pins the VAULT_ADDR of the same environment file, and fetch then works.
#[test]
fn an_adopted_host_gets_its_address_pinned_by_bootstrap_without_a_token() {
    let bao = Bao::dev();
    let host = Host::new();
    let pw = support::run::secret("adopted-db-password");
    bao.kv_put("hosts/adopted01/db", &json!({ "password": pw }));
    let (role_id, secret_id) = bao.approle("adopted01");
    host.write_credentials(&role_id, &secret_id);
    let spec = first_boot_spec(&host, "adopted01", "hosts/adopted01/db");

    let r = run(&spec, &["fetch"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(
        &spec,
        &["bootstrap", "--strict"],
        &[("VAULT_ADDR", &bao.addr)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("PINNED {}", bao.addr))
            && r.stderr.contains("already bootstrapped"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(pin_file(&host)).unwrap(),
        format!("{}\n", bao.addr)
    );
    let r = run(&spec, &["fetch"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(host.out("db").join("password")).unwrap(),
        pw
    );
}
