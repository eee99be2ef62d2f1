use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[test]
fn replace_file_replaces_a_planted_symlink_instead_of_following_it() {
    let t = tempfile::tempdir().unwrap();
    let victim = t.path().join("victim");
    std::fs::write(&victim, "original").unwrap();
    let d = t.path().join("d");
    let fd = ensure_private_dir(&d, 0o700).unwrap();
    std::os::unix::fs::symlink(&victim, d.join("data.json")).unwrap();
    replace_file(&fd, "data.json", b"new", 0o600, &d).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");
    let meta = std::fs::symlink_metadata(d.join("data.json")).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert_eq!(std::fs::read(d.join("data.json")).unwrap(), b"new");
    assert_eq!(list_dir(&fd, &d).unwrap(), vec!["data.json".to_string()]);
}

#[test]
fn private_dirs_refuse_symlinks_and_fix_modes() {
    let t = tempfile::tempdir().unwrap();
    let real = t.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fd = ensure_private_dir(&real, 0o700).unwrap();
    drop(fd);
    assert_eq!(std::fs::metadata(&real).unwrap().mode() & 0o7777, 0o700);
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let e = ensure_private_dir(&link, 0o700).unwrap_err();
    assert!(e.to_string().contains("symlinks are refused"), "{e}");
}

#[test]
fn reading_refuses_symlinks() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("f"), "x").unwrap();
    std::os::unix::fs::symlink(t.path().join("f"), t.path().join("l")).unwrap();
    let fd = open_dir_nofollow(t.path()).unwrap();
    assert_eq!(read_file_at(&fd, "f", t.path()).unwrap().unwrap(), b"x");
    assert!(read_file_at(&fd, "l", t.path()).is_err());
    assert!(read_file_at(&fd, "missing", t.path()).unwrap().is_none());
}
