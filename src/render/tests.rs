use super::*;
use crate::spec::{KvVersion, OnChange};
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn spec(dir: &Path, mode: u32) -> SecretSpec {
    SecretSpec {
        name: "app".into(),
        secret_path: "hosts/x/app".into(),
        kv_mount: "secret".into(),
        kv_version: KvVersion::V2,
        output_dir: dir.join("secrets/app"),
        cache_dir: dir.join("cache/app"),
        // The running user and group, as numbers: these tests run unprivileged
        // in the Nix build sandbox, where no user or group but root exists and
        // only root could give a file to root (the chown is a no-op here).
        owner: nix::unistd::geteuid().to_string(),
        group: nix::unistd::getegid().to_string(),
        mode,
        services: vec![],
        restart_trigger: false,
        restart_interval: Duration::from_secs(86400),
        refresh_interval: Duration::from_secs(300),
        boot_cache_max_age: Duration::from_secs(900),
        on_change: OnChange::Restart,
        restart_randomized_delay: Duration::ZERO,
    }
}

fn data(pairs: &[(&str, serde_json::Value)]) -> SecretData {
    SecretData(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn renders_one_file_per_key_with_mode_and_switches_generations() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o440);
    let out = &s.output_dir;
    let r = render(
        &s,
        &data(&[
            ("user", json!("admin")),
            ("pass", json!("pw1")),
            ("port", json!(5432)),
        ]),
    )
    .unwrap();
    assert_eq!(
        r,
        Rendered::Changed {
            generation: "g1".into(),
            files: 3
        }
    );
    assert_eq!(
        std::fs::read_link(out).unwrap(),
        PathBuf::from(".app.vaultkeeper/g1")
    );
    assert_eq!(std::fs::read_to_string(out.join("pass")).unwrap(), "pw1");
    assert_eq!(std::fs::read_to_string(out.join("port")).unwrap(), "5432");
    let m = std::fs::metadata(out.join("pass")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o440);
    assert_eq!(std::fs::metadata(out).unwrap().mode() & 0o7777, 0o550);

    // Same data: nothing is rewritten, not even the mtime.
    let mtime = m.mtime_nsec();
    assert_eq!(
        render(
            &s,
            &data(&[
                ("user", json!("admin")),
                ("pass", json!("pw1")),
                ("port", json!(5432))
            ])
        )
        .unwrap(),
        Rendered::Unchanged
    );
    assert_eq!(
        std::fs::metadata(out.join("pass")).unwrap().mtime_nsec(),
        mtime
    );

    // A changed value and a deleted key: a new generation without that key.
    let r = render(
        &s,
        &data(&[("user", json!("admin")), ("pass", json!("pw2"))]),
    )
    .unwrap();
    assert_eq!(
        r,
        Rendered::Changed {
            generation: "g2".into(),
            files: 2
        }
    );
    assert_eq!(names(out), vec!["pass", "user"]);
    assert_eq!(std::fs::read_to_string(out.join("pass")).unwrap(), "pw2");

    // Only the current and the previous generation are kept.
    render(&s, &data(&[("pass", json!("pw3"))])).unwrap();
    assert_eq!(
        names(&t.path().join("secrets/.app.vaultkeeper")),
        vec!["g2", "g3"]
    );
    // No temporary link or file is left behind.
    assert_eq!(
        names(&t.path().join("secrets")),
        vec![".app.vaultkeeper", "app"]
    );
}

#[test]
fn a_mode_change_alone_makes_a_new_generation() {
    let t = tempfile::tempdir().unwrap();
    let mut s = spec(t.path(), 0o400);
    render(&s, &data(&[("k", json!("v"))])).unwrap();
    s.mode = 0o440;
    assert!(matches!(
        render(&s, &data(&[("k", json!("v"))])).unwrap(),
        Rendered::Changed { .. }
    ));
    assert_eq!(
        std::fs::metadata(s.output_dir.join("k")).unwrap().mode() & 0o7777,
        0o440
    );
}

#[test]
fn a_bad_key_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    for bad in ["../escape", "", "..", "a/b"] {
        let e = render(&s, &data(&[("ok", json!("v")), (bad, json!("x"))])).unwrap_err();
        assert!(matches!(e, RenderError::InvalidKey { .. }), "{bad:?}: {e}");
        assert!(!t.path().join("secrets").exists());
        assert!(!t.path().join("escape").exists());
    }
}

#[test]
fn planted_symlinks_are_replaced_never_followed() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    let victim_dir = t.path().join("victim");
    std::fs::create_dir(&victim_dir).unwrap();
    std::fs::write(victim_dir.join("pass"), "untouched").unwrap();
    std::fs::create_dir_all(t.path().join("secrets")).unwrap();
    // outputDir itself is a symlink to someone else's directory.
    std::os::unix::fs::symlink(&victim_dir, &s.output_dir).unwrap();
    render(&s, &data(&[("pass", json!("new"))])).unwrap();
    assert_eq!(
        std::fs::read_to_string(victim_dir.join("pass")).unwrap(),
        "untouched"
    );
    assert_eq!(
        std::fs::read_link(&s.output_dir).unwrap(),
        PathBuf::from(".app.vaultkeeper/g1")
    );
    assert_eq!(
        std::fs::read_to_string(s.output_dir.join("pass")).unwrap(),
        "new"
    );
}

#[test]
fn a_plain_directory_with_a_planted_symlink_is_swapped_out_and_kept() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    let victim = t.path().join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    std::fs::create_dir_all(&s.output_dir).unwrap();
    std::os::unix::fs::symlink(&victim, s.output_dir.join("pass")).unwrap();
    render(&s, &data(&[("pass", json!("new"))])).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    assert!(std::fs::symlink_metadata(&s.output_dir)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(s.output_dir.join("pass")).unwrap(),
        "new"
    );
    // The directory was set aside, not deleted: the planted symlink is still there.
    let all = names(&t.path().join("secrets"));
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all[1].starts_with(".app.vaultkeeper.aside-"), "{all:?}");
    let aside = t.path().join("secrets").join(&all[1]);
    assert!(std::fs::symlink_metadata(aside.join("pass"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_directory_vaultkeeper_did_not_write_is_set_aside_with_every_byte() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    // Like the seed's vault-fetch output during a migration: a file and a subdirectory.
    std::fs::create_dir_all(s.output_dir.join("sub/deeper")).unwrap();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(s.output_dir.join("password"), &big).unwrap();
    std::fs::write(s.output_dir.join("sub/deeper/cert.pem"), "CERT").unwrap();
    std::fs::set_permissions(&s.output_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    render(&s, &data(&[("password", json!("new"))])).unwrap();
    assert_eq!(
        std::fs::read_to_string(s.output_dir.join("password")).unwrap(),
        "new"
    );
    let aside: Vec<String> = names(&t.path().join("secrets"))
        .into_iter()
        .filter(|n| n.starts_with(".app.vaultkeeper.aside-"))
        .collect();
    assert_eq!(aside.len(), 1);
    let aside = t.path().join("secrets").join(&aside[0]);
    assert_eq!(std::fs::read(aside.join("password")).unwrap(), big);
    assert_eq!(
        std::fs::read_to_string(aside.join("sub/deeper/cert.pem")).unwrap(),
        "CERT"
    );
    assert_eq!(std::fs::metadata(&aside).unwrap().mode() & 0o7777, 0o700);
    // Later renders leave it alone.
    render(&s, &data(&[("password", json!("newer"))])).unwrap();
    assert_eq!(std::fs::read(aside.join("password")).unwrap(), big);
}

#[test]
fn an_empty_directory_at_output_dir_is_replaced() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    std::fs::create_dir_all(&s.output_dir).unwrap();
    render(&s, &data(&[("k", json!("v"))])).unwrap();
    assert_eq!(
        names(&t.path().join("secrets")),
        vec![".app.vaultkeeper", "app"]
    );
}

#[test]
fn debris_of_a_render_that_died_is_removed_by_the_next() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    render(&s, &data(&[("k", json!("v1"))])).unwrap();
    render(&s, &data(&[("k", json!("v2"))])).unwrap();
    let secrets = t.path().join("secrets");
    let gens = secrets.join(".app.vaultkeeper");
    // A render killed after writing g3 and g4 and its link temporary, never published.
    for g in ["g3", "g4"] {
        std::fs::create_dir(gens.join(g)).unwrap();
        std::fs::write(gens.join(g).join("k"), "unpublished").unwrap();
    }
    std::os::unix::fs::symlink(
        ".app.vaultkeeper/g4",
        secrets.join(".app.vaultkeeper.link-1-0123456789abcdef"),
    )
    .unwrap();
    // Same data: nothing new is written, but the debris goes.
    assert_eq!(
        render(&s, &data(&[("k", json!("v2"))])).unwrap(),
        Rendered::Unchanged
    );
    assert_eq!(names(&gens), vec!["g1", "g2"]);
    assert_eq!(names(&secrets), vec![".app.vaultkeeper", "app"]);
    // The next generation number is past every one seen: never reused.
    std::fs::create_dir(gens.join("g9")).unwrap();
    let r = render(&s, &data(&[("k", json!("v3"))])).unwrap();
    assert_eq!(
        r,
        Rendered::Changed {
            generation: "g10".into(),
            files: 1
        }
    );
    assert_eq!(names(&gens), vec!["g10", "g2"]);
    // A directory under a link-temporary name (a render killed mid-swap) is set aside.
    std::fs::create_dir(secrets.join(".app.vaultkeeper.link-1-fedcba9876543210")).unwrap();
    std::fs::write(
        secrets.join(".app.vaultkeeper.link-1-fedcba9876543210/keep"),
        "x",
    )
    .unwrap();
    render(&s, &data(&[("k", json!("v4"))])).unwrap();
    let all = names(&secrets);
    assert!(
        all.iter().any(|n| n.starts_with(".app.vaultkeeper.aside-")),
        "{all:?}"
    );
    assert!(!all.iter().any(|n| n.contains(".link-")), "{all:?}");
}

#[test]
fn a_file_at_output_dir_is_an_error_that_says_what_to_do() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    std::fs::create_dir_all(t.path().join("secrets")).unwrap();
    std::fs::write(&s.output_dir, "x").unwrap();
    let e = render(&s, &data(&[("k", json!("v"))]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a file, not a directory; remove it"), "{e}");
}

#[test]
fn a_world_writable_generations_dir_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o400);
    let gens = t.path().join("secrets/.app.vaultkeeper");
    std::fs::create_dir_all(&gens).unwrap();
    std::fs::set_permissions(&gens, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = render(&s, &data(&[("k", json!("v"))]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("others own or can write"), "{e}");
}

#[test]
fn directory_modes_do_not_depend_on_the_umask() {
    // Units run with UMask=0077; consumers must still reach their files.
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path(), 0o444);
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let r = render(&s, &data(&[("k", json!("v"))]));
    nix::sys::stat::umask(old);
    r.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(mode(&t.path().join("secrets")), 0o755);
    assert_eq!(mode(&t.path().join("secrets/.app.vaultkeeper")), 0o711);
    assert_eq!(mode(&s.output_dir), 0o555);
    assert_eq!(mode(&s.output_dir.join("k")), 0o444);
}
