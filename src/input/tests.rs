use super::*;
use std::os::unix::fs::PermissionsExt;

fn write(p: &Path, text: &str, mode: u32) {
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn needs_root_credential_files_must_be_private_regular_files_of_ours() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("secret-id");
    write(&f, "abc\n", 0o600);
    assert_eq!(&read(&f, Input::Credential).unwrap()[..], b"abc\n");

    write(&f, "abc\n", 0o640);
    let e = read(&f, Input::Credential).unwrap_err().to_string();
    assert!(e.contains("mode 0640") && e.contains("chmod 600"), "{e}");
    write(&f, "abc\n", 0o602);
    assert!(read(&f, Input::Credential).is_err());

    write(&f, "abc\n", 0o600);
    nix::unistd::chown(&f, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let e = read(&f, Input::Credential).unwrap_err().to_string();
    assert!(
        e.contains("owned by uid 65534") && e.contains("chown"),
        "{e}"
    );
}

#[test]
fn a_symlinked_credential_is_refused_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("shadow");
    write(&target, "root:secret-hash", 0o600);
    let link = t.path().join("secret-id");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = read(&link, Input::Credential).unwrap_err().to_string();
    assert!(e.contains("is a symlink") && e.contains("secret-id"), "{e}");
}

#[test]
fn a_fifo_is_refused_without_blocking_and_devices_too() {
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("role-id");
    nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o600)).unwrap();
    let started = std::time::Instant::now();
    let e = read(&fifo, Input::Credential).unwrap_err().to_string();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(e.contains("a FIFO"), "{e}");
    let e = read(Path::new("/dev/zero"), Input::WrappedToken)
        .unwrap_err()
        .to_string();
    assert!(e.contains("a character device"), "{e}");
    let e = read(t.path(), Input::Spec).unwrap_err().to_string();
    assert!(e.to_lowercase().contains("is a directory"), "{e}");
}

#[test]
fn sizes_are_capped() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("role-id");
    write(&f, &"x".repeat(4096), 0o600);
    assert_eq!(read(&f, Input::Credential).unwrap().len(), 4096);
    write(&f, &"x".repeat(4097), 0o600);
    let e = read(&f, Input::Credential).unwrap_err().to_string();
    assert!(e.contains("4097 bytes") && e.contains("4096"), "{e}");
    let e = read(&t.path().join("nope"), Input::Credential).unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[test]
fn needs_root_the_spec_may_be_a_root_owned_link_and_world_readable() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "the suite runs as root"
    );
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("store-spec.json");
    write(&store, "{}", 0o444);
    let link = t.path().join("spec.json");
    std::os::unix::fs::symlink(&store, &link).unwrap();
    assert_eq!(&read(&link, Input::Spec).unwrap()[..], b"{}");
    write(&store, "{}", 0o666);
    let e = read(&link, Input::Spec).unwrap_err().to_string();
    assert!(e.contains("chmod go-w"), "{e}");
}
