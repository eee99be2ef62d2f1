use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn replaces_atomically_with_mode_0644_and_leaves_no_debris() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("vaultkeeper.prom");
    write(&p, "a 1\n").unwrap();
    write(&p, "a 2\n").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "a 2\n");
    let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o644);
    let names: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["vaultkeeper.prom"]);
}

#[test]
fn refuses_what_it_did_not_create() {
    let t = tempfile::tempdir().unwrap();
    let victim = t.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = t.path().join("link.prom");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let e = write(&link, "x 1\n").unwrap_err();
    assert!(
        matches!(
            e,
            TextfileError::NotRegular {
                kind: "a symlink",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());

    let d = t.path().join("dir.prom");
    std::fs::create_dir(&d).unwrap();
    assert!(matches!(
        write(&d, "x 1\n").unwrap_err(),
        TextfileError::NotRegular {
            kind: "a directory",
            ..
        }
    ));
    let fifo = t.path().join("fifo.prom");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    assert!(matches!(
        write(&fifo, "x 1\n").unwrap_err(),
        TextfileError::NotRegular { kind: "a FIFO", .. }
    ));

    // A symlinked directory is refused too (the file would land elsewhere).
    let real = t.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let dl = t.path().join("dirlink");
    std::os::unix::fs::symlink(&real, &dl).unwrap();
    assert!(matches!(
        write(&dl.join("m.prom"), "x 1\n").unwrap_err(),
        TextfileError::Dir { .. }
    ));
    assert!(std::fs::read_dir(&real).unwrap().next().is_none());
    // A missing directory is an error that says what to do.
    let e = write(&t.path().join("nope/m.prom"), "x").unwrap_err();
    assert!(e.to_string().contains("create it"), "{e}");
}
