//! Migration from the seed design's module: the AppRole credentials it left in
//! /var/lib/vault/approle are adopted at boot (copied, never moved), only when
//! nothing but root could have written them. The behaviour test chowns files:
//! it is named needs_root_ so that the Nix sandbox's build user (the flake's
//! checks.module-eval, nix/package.nix checkFlags) leaves it to scripts/test.sh,
//! which runs it as root.

use super::nix_or_skip;
use serde_json::json;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

#[test]
fn adopt_unit_runs_before_bootstrap_only_without_credentials() {
    let nix = nix_or_skip!("adopt_unit_runs_before_bootstrap_only_without_credentials");
    let got = nix.eval("defaults");
    let unit = &got["services"]["vaultkeeper-adopt-credentials"];
    assert_eq!(
        unit["unitConfig"]["ConditionPathExists"],
        json!([
            "!/var/lib/vaultkeeper/approle/secret-id",
            "/var/lib/vault/approle/secret-id"
        ])
    );
    assert_eq!(
        unit["before"],
        json!([
            "vaultkeeper-bootstrap.service",
            "vaultkeeper.service",
            "vault-secret-grafana.service"
        ])
    );
    assert_eq!(unit["wantedBy"], json!(["multi-user.target"]));
    assert_eq!(unit["serviceConfig"]["Type"], "oneshot");
    assert_eq!(unit["serviceConfig"]["ProtectSystem"], "strict");
    assert_eq!(
        unit["serviceConfig"]["ReadWritePaths"],
        json!(["/var/lib/vaultkeeper/approle"])
    );
    // Nothing requires it: a refusal cannot hold anything back.
    for (name, svc) in got["services"].as_object().unwrap() {
        for dep in ["requires", "wants"] {
            assert!(
                !svc[dep].to_string().contains("adopt"),
                "{name} {dep} {}",
                svc[dep]
            );
        }
    }
    // adoptFrom = null: no unit.
    let lib = nix.lib().display().to_string();
    let none = nix.eval_expr(&format!(
        r#"let lib = import {lib}; in (lib.evalModules {{ modules = [ ./nix/module ./nix/tests/stubs.nix
             {{ _module.args.pkgs = import ./nix/tests/pkgs.nix; }} ./nix/tests/scenarios/defaults.nix
             {{ vault.approle.adoptFrom = null; }} ]; }}).config.systemd.services ? vaultkeeper-adopt-credentials"#
    ));
    assert_eq!(none, json!(false));
}

struct Run {
    code: Option<i32>,
    out: String,
}

/// The module's adopt script with its paths in `root`, run as root.
fn adopt(nix: &crate::nix_eval::Nix, root: &Path) -> Run {
    let lib = nix.lib().display().to_string();
    let r = root.display();
    let script = nix.eval_expr(&format!(
        r#"let lib = import {lib}; in (lib.evalModules {{ modules = [ ./nix/module ./nix/tests/stubs.nix
             {{ _module.args.pkgs = import ./nix/tests/pkgs.nix; }}
             {{ vault = {{ enable = true; address = "https://vault01.example:8200";
                  stateDir = "{r}/vk"; approle.adoptFrom = "{r}/seed/approle/"; }}; }} ]; }}).config.vault.approle.adoptScript"#
    ));
    let out = Command::new("bash")
        .arg("-c")
        .arg(script.as_str().unwrap())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn seed(root: &Path, mode: u32) -> std::path::PathBuf {
    let dir = root.join("seed/approle");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    for (f, v) in [
        ("role-id", "role-1234\n"),
        ("secret-id", "adopt-me-secret-id\n"),
    ] {
        std::fs::write(dir.join(f), v).unwrap();
        std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    dir
}

fn adopted(root: &Path) -> bool {
    root.join("vk/approle/secret-id").exists()
}

#[test]
fn needs_root_seed_credentials_are_adopted_only_when_only_root_could_write_them() {
    let nix = nix_or_skip!(
        "needs_root_seed_credentials_are_adopted_only_when_only_root_could_write_them"
    );
    assert_eq!(
        nix::unistd::geteuid().as_raw(),
        0,
        "this test chowns files: run it as root (scripts/test.sh does)"
    );

    // The seed's layout: copied, 0600 root, originals untouched; a second run does nothing.
    let t = tempfile::tempdir().unwrap();
    let src = seed(t.path(), 0o600);
    let run = adopt(&nix, t.path());
    assert_eq!(run.code, Some(0), "{}", run.out);
    for f in ["role-id", "secret-id"] {
        let to = t.path().join("vk/approle").join(f);
        assert_eq!(
            std::fs::read(&to).unwrap(),
            std::fs::read(src.join(f)).unwrap()
        );
        let m = std::fs::metadata(&to).unwrap();
        assert_eq!((m.uid(), m.mode() & 0o7777), (0, 0o600), "{f}");
        assert!(src.join(f).exists(), "the original {f} stays");
    }
    let dir = std::fs::metadata(t.path().join("vk/approle")).unwrap();
    assert_eq!(dir.mode() & 0o777, 0o700);
    assert!(run.out.contains("adopted"), "{}", run.out);
    let again = adopt(&nix, t.path());
    assert_eq!(again.code, Some(0));
    assert!(
        again.out.contains("has credentials of its own"),
        "{}",
        again.out
    );

    // Nothing to adopt.
    let t = tempfile::tempdir().unwrap();
    let run = adopt(&nix, t.path());
    assert_eq!(run.code, Some(0));
    assert!(run.out.contains("nothing to adopt"), "{}", run.out);

    // Readable by others: adopted, with a loud warning to rotate.
    let t = tempfile::tempdir().unwrap();
    seed(t.path(), 0o644);
    let run = adopt(&nix, t.path());
    assert_eq!(run.code, Some(0), "{}", run.out);
    assert!(adopted(t.path()));
    assert!(
        run.out.contains("WARNING") && run.out.contains("rotate"),
        "{}",
        run.out
    );

    // Hostile layouts: refused, nothing adopted, the reason and the fix said.
    type Plant = fn(&Path);
    let cases: [(&str, Plant, &str); 6] = [
        (
            "symlink",
            |d| {
                std::fs::remove_file(d.join("secret-id")).unwrap();
                symlink("/etc/shadow", d.join("secret-id")).unwrap();
            },
            "not a regular file",
        ),
        (
            "group-writable",
            |d| {
                std::fs::set_permissions(
                    d.join("secret-id"),
                    std::fs::Permissions::from_mode(0o620),
                )
                .unwrap();
            },
            "writable by group or others (mode 620)",
        ),
        (
            "foreign owner",
            |d| {
                nix::unistd::chown(
                    &d.join("secret-id"),
                    Some(nix::unistd::Uid::from_raw(4321)),
                    None,
                )
                .unwrap();
            },
            "owned by uid 4321",
        ),
        (
            "foreign directory",
            |d| {
                nix::unistd::chown(d, Some(nix::unistd::Uid::from_raw(4321)), None).unwrap();
            },
            "owned by uid 4321",
        ),
        (
            "too large",
            |d| {
                std::fs::write(d.join("secret-id"), vec![b'x'; 5000]).unwrap();
            },
            "size 5000 is not 1 to 4096 bytes",
        ),
        (
            "fifo",
            |d| {
                std::fs::remove_file(d.join("secret-id")).unwrap();
                nix::unistd::mkfifo(
                    &d.join("secret-id"),
                    nix::sys::stat::Mode::from_bits_truncate(0o600),
                )
                .unwrap();
            },
            "not a regular file",
        ),
    ];
    for (what, plant, why) in cases {
        let t = tempfile::tempdir().unwrap();
        let src = seed(t.path(), 0o600);
        plant(&src);
        let run = adopt(&nix, t.path());
        assert_eq!(run.code, Some(1), "{what}: {}", run.out);
        assert!(
            run.out.contains("NOT adopting") && run.out.contains(why),
            "{what}: {}",
            run.out
        );
        assert!(!adopted(t.path()), "{what}");
    }

    // Another role-id already here: refused, no secret-id next to a foreign role-id.
    let t = tempfile::tempdir().unwrap();
    seed(t.path(), 0o600);
    std::fs::create_dir_all(t.path().join("vk/approle")).unwrap();
    std::fs::write(t.path().join("vk/approle/role-id"), "other-role\n").unwrap();
    let run = adopt(&nix, t.path());
    assert_eq!(run.code, Some(1), "{}", run.out);
    assert!(
        run.out.contains("already has another role-id"),
        "{}",
        run.out
    );
    assert!(!adopted(t.path()));
}
