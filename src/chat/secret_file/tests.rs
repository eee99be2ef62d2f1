//! Unit tests of secret_file.rs.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn write(p: &Path, text: &str, mode: u32) {
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn reads_once_and_again_when_the_file_changes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("signing-secret");
    write(&p, "0123456789abcdef0123456789abcdef\n", 0o400);
    let s = SigningSecret::new(&p);
    assert_eq!(
        s.current().unwrap().expose(),
        "0123456789abcdef0123456789abcdef"
    );
    // Rotation by rename, as vaultkeeper and NixOS write files.
    let tmp = d.path().join("tmp");
    write(&tmp, "fedcba9876543210fedcba9876543210", 0o400);
    std::fs::rename(&tmp, &p).unwrap();
    assert_eq!(
        s.current().unwrap().expose(),
        "fedcba9876543210fedcba9876543210"
    );
    // Gone: refused, the old value is not kept.
    std::fs::remove_file(&p).unwrap();
    let e = s.current().unwrap_err().to_string();
    assert!(
        e.contains("cannot read the Slack signing secret file"),
        "{e}"
    );
    assert!(!e.contains("fedcba"), "{e}");
}

#[test]
fn hostile_files_are_refused_without_showing_their_content() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("real");
    write(&target, "0123456789abcdef0123456789abcdef", 0o400);
    let link = d.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = SigningSecret::new(&link).current().unwrap_err().to_string();
    assert!(e.contains("symlink"), "{e}");

    let fifo = d.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let e = SigningSecret::new(&fifo).current().unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");

    let big = d.path().join("big");
    write(&big, &"a".repeat(5000), 0o400);
    let e = SigningSecret::new(&big).current().unwrap_err().to_string();
    assert!(e.contains("5000 bytes"), "{e}");

    for mode in [0o666, 0o440, 0o404] {
        let open = d.path().join(format!("open{mode:o}"));
        write(&open, "0123456789abcdef0123456789abcdef", mode);
        let e = SigningSecret::new(&open).current().unwrap_err().to_string();
        assert!(
            e.contains("its group or others may read or write it"),
            "{e}"
        );
    }

    let empty = d.path().join("empty");
    write(&empty, "\n", 0o400);
    let e = SigningSecret::new(&empty)
        .current()
        .unwrap_err()
        .to_string();
    assert!(e.contains("it is empty"), "{e}");

    let two = d.path().join("two");
    write(&two, "secret-one secret-two-xx", 0o400);
    let e = SigningSecret::new(&two).current().unwrap_err().to_string();
    assert!(e.contains("does not hold one signing secret"), "{e}");
    assert!(!e.contains("secret-one"), "{e}");

    let dir = d.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    let e = SigningSecret::new(&dir).current().unwrap_err().to_string();
    assert!(
        e.contains("not a regular file") || e.contains("Is a directory"),
        "{e}"
    );
}
