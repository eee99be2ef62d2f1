use super::*;
use std::os::unix::fs::PermissionsExt;

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

#[test]
fn walk_creates_missing_directories_with_the_exact_mode() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("a/b/c");
    open_dir(&p, Some(0o755)).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, 0o755);
    assert!(open_dir(&t.path().join("missing"), None)
        .unwrap_err()
        .is_not_found());
}

#[test]
fn parent_writable_by_others_without_sticky_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let open = t.path().join("open");
    std::fs::create_dir(&open).unwrap();
    chmod(&open, 0o777);
    let e = open_dir(&open.join("secrets"), Some(0o755))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[rule: parent-writable]") && e.contains("chmod go-w"),
        "{e}"
    );
    assert!(!open.join("secrets").exists(), "nothing created below it");
    chmod(&open, 0o775);
    let e = open_dir(&open, None).unwrap_err().to_string();
    assert!(e.contains("parent-writable"), "{e}");
    // With the sticky bit (like /tmp) it is fine.
    chmod(&open, 0o1777);
    open_dir(&open.join("secrets"), Some(0o755)).unwrap();
}

#[test]
fn needs_root_symlinked_parent_only_when_root_owned_all_the_way() {
    let t = tempfile::tempdir().unwrap();
    // Like sops-nix: /run/secrets -> /run/secrets.d/1, all root-owned (tests run as root).
    let real = t.path().join("secrets.d/1");
    std::fs::create_dir_all(&real).unwrap();
    let link = t.path().join("secrets");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    if nix::unistd::Uid::effective().is_root() {
        let fd = open_dir(&link.join("app-parent"), Some(0o755)).unwrap();
        drop(fd);
        assert!(real.join("app-parent").is_dir());
        // A link owned by someone else is refused.
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            &link,
            Some(nix::unistd::Uid::from_raw(65534)),
            None,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .unwrap();
        let e = open_dir(&link.join("x"), Some(0o755))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[rule: symlinked-parent]") && e.contains("not root-owned"),
            "{e}"
        );
        // A root-owned link whose target directory belongs to someone else is refused.
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        nix::unistd::chown(&real, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let e = open_dir(&link.join("y"), Some(0o755))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("symlinked-parent") && e.contains("after it"),
            "{e}"
        );
    } else {
        panic!("this test needs root (the suite runs as root): it creates root-owned symlinks");
    }
}

#[test]
fn needs_root_a_directory_before_the_symlink_owned_by_another_user_is_refused() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "the suite runs as root"
    );
    let t = tempfile::tempdir().unwrap();
    let mid = t.path().join("mid");
    std::fs::create_dir(&mid).unwrap();
    std::fs::create_dir(t.path().join("real")).unwrap();
    std::os::unix::fs::symlink(t.path().join("real"), mid.join("link")).unwrap();
    nix::unistd::chown(&mid, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let e = open_dir(&mid.join("link/out"), Some(0o755))
        .unwrap_err()
        .to_string();
    assert!(e.contains("a directory before it is not root-owned"), "{e}");
    // Without a symlink, a directory owned by another user on the way is allowed
    // (e.g. /var/lib/grafana/secrets).
    std::fs::create_dir(mid.join("plain")).unwrap();
    open_dir(&mid.join("plain"), None).unwrap();
}

#[test]
fn file_walk_returns_the_parent_and_name() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("f"), "x").unwrap();
    let (_fd, name) = open_parent_of_file(&t.path().join("f"), false).unwrap();
    assert_eq!(name, "f");
    let e = open_parent_of_file(t.path(), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a directory"), "{e}");
}
