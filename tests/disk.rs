//! Safe on disk: no configuration, crash, full disk or second writer can
//! destroy data or leave a secret missing. Each test reproduces a failure the
//! released binary had (see docs/explanation/security-model.md, "What
//! vaultkeeper will never do to your file system").

mod support;

use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};
use support::bao::Bao;
use support::run::{secret, vaultkeeper, Run};
use support::spec::{files, write_private, Host};

fn fetch(spec: &Path, names: &[&str]) -> Run {
    let mut args = vec!["--spec", spec.to_str().unwrap(), "fetch"];
    args.extend_from_slice(names);
    vaultkeeper(&args, &[])
}

fn check(spec: &Path) -> Run {
    vaultkeeper(&["check", "--spec", spec.to_str().unwrap()], &[])
}

/// A dev server with an AppRole `role` whose credentials `host` holds.
fn setup(role: &str) -> (Bao, Host) {
    let bao = Bao::dev();
    let host = Host::new();
    let (role_id, secret_id) = bao.approle(role);
    host.write_credentials(&role_id, &secret_id);
    (bao, host)
}

#[test]
fn check_refuses_system_state_and_nested_output_dirs_with_exit_2() {
    let host = Host::new();
    let state = host.state_dir();
    let cases = [
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/etc"}}),
            "secrets.a.outputDir: \"/etc\" is /etc, which the system owns",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/usr"}}),
            "\"/usr\" is /usr",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/root"}}),
            "\"/root\" is /root",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/var/lib/grafana"}}),
            "\"/var/lib/grafana\" is a directory of its own in /var/lib",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": state.join("approle")}}),
            "is inside stateDir",
            "inside-state-dir",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": host.out("a")}, "b": {"secretPath": "x/b", "outputDir": host.out("a").join("b")}}),
            "contains secrets.b.outputDir",
            "nested",
        ),
        (
            json!({"a": {"secretPath": "x/a", "mode": "4555"}}),
            "secrets.a.mode: \"4555\" sets the setuid bit",
            "permission-bits-only",
        ),
        (
            json!({"a": {"secretPath": "x/a", "mode": "6550"}}),
            "sets the setuid and setgid bit",
            "permission-bits-only",
        ),
        (
            json!({"a": {"secretPath": "x/a", "mode": "1400"}}),
            "sets the sticky bit",
            "permission-bits-only",
        ),
    ];
    for (secrets, message, rule) in cases {
        let spec = host.write_spec(&host.spec("https://vault.example:8200", secrets.clone()));
        let r = check(&spec);
        assert_eq!(r.code, 2, "{secrets}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{secrets}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("[rule: {rule}]")),
            "{secrets}: {}",
            r.stderr
        );
        // fetch and the daemon load the spec the same way: refused before any write.
        let r = fetch(&spec, &[]);
        assert_eq!(r.code, 2, "{secrets}: {}", r.stderr);
    }
    // An execute bit is allowed, with a warning.
    let spec = host.write_spec(&host.spec(
        "https://vault.example:8200",
        json!({"a": {"secretPath": "x/a", "mode": "0500"}}),
    ));
    let r = check(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("WARN")
            && r.stderr
                .contains("secrets.a.mode: mode 0500 makes the secret's files executable"),
        "{}",
        r.stderr
    );
}

#[test]
fn fetch_refuses_credential_files_that_are_symlinks_fifos_shared_or_foreign() {
    let (bao, host) = setup("d1");
    bao.kv_put("hosts/d1/app", &json!({ "pw": secret("pw") }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d1/app" } }),
    ));
    let sid = host.path("state/approle/secret-id");
    let good = std::fs::read_to_string(&sid).unwrap();
    assert_eq!(fetch(&spec, &[]).code, 0);

    // A symlink to another file (before: the whole target was sent to Vault as secret_id).
    let elsewhere = host.path("elsewhere");
    write_private(&elsewhere, &good);
    std::fs::remove_file(&sid).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &sid).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "AppRole secret-id at {} is refused: it is a symlink",
            sid.display()
        )),
        "{}",
        r.stderr
    );

    // Group- or world-readable/writable.
    std::fs::remove_file(&sid).unwrap();
    write_private(&sid, &good);
    for mode in [0o640, 0o604, 0o620] {
        std::fs::set_permissions(&sid, std::fs::Permissions::from_mode(mode)).unwrap();
        let r = fetch(&spec, &[]);
        assert_eq!(r.code, 3, "{mode:o}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("run `chmod 600 {}`", sid.display())),
            "{}",
            r.stderr
        );
    }
    std::fs::set_permissions(&sid, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Owned by another user.
    nix::unistd::chown(&sid, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("is owned by uid 65534"), "{}", r.stderr);
    nix::unistd::chown(&sid, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();

    // A FIFO: refused at once, not waited on.
    std::fs::remove_file(&sid).unwrap();
    nix::unistd::mkfifo(&sid, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let started = Instant::now();
    let r = fetch(&spec, &[]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("it is a FIFO (named pipe), not a regular file"),
        "{}",
        r.stderr
    );

    // Too large.
    std::fs::remove_file(&sid).unwrap();
    write_private(&sid, &"x".repeat(5000));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("more than the 4096 bytes"),
        "{}",
        r.stderr
    );

    // Back to a good file: works again.
    write_private(&sid, &good);
    assert_eq!(fetch(&spec, &[]).code, 0);
}

#[test]
fn an_output_dir_under_a_world_writable_parent_is_refused() {
    let (bao, host) = setup("d2");
    bao.kv_put("hosts/d2/app", &json!({ "pw": secret("pw") }));
    let parent = host.path("shared");
    std::fs::create_dir(&parent).unwrap();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d2/app", "outputDir": parent.join("app") } }),
    ));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("[rule: parent-writable]")
            && r.stderr
                .contains(&format!("chmod go-w {}", parent.display())),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_dir(&parent).unwrap().count(),
        0,
        "nothing written there"
    );
    // With the sticky bit (like /tmp) it is fine.
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&parent.join("app")).len(), 1);
}
