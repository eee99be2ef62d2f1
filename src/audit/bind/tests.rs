//! Unit tests of bind.rs.

use super::*;
use std::os::unix::fs::MetadataExt;

#[tokio::test]
async fn unix_sockets_appear_with_their_mode_and_group_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/audit.sock");
    // The running group: a group the test may give the socket to even
    // unprivileged, and that exists in the Nix build sandbox.
    let gid = nix::unistd::getegid();
    let l = bind_unix(&path, Some(gid)).unwrap();
    let m = std::fs::symlink_metadata(&path).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o660);
    assert_eq!(m.gid(), gid.as_raw());
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("audit.sock")],
        "no private directory left"
    );
    let _c = tokio::net::UnixStream::connect(&path).await.unwrap();
    assert!(l.accept().await.is_ok());
    drop(l);
    // A stale socket is replaced; anything else in the way is refused.
    assert!(bind_unix(&path, None).is_ok());
    let file = dir.path().join("run/not-a-socket");
    std::fs::write(&file, "x").unwrap();
    let e = bind_unix(&file, None).unwrap_err().to_string();
    assert!(e.contains("not a socket is in the way"), "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    let e = group_id("no-such-group-vk").unwrap_err().to_string();
    assert!(
        e.contains("group \"no-such-group-vk\" (audit.socketGroup) does not exist"),
        "{e}"
    );
}
