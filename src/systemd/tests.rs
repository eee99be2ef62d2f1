use super::*;

#[test]
fn messages_reach_a_path_socket_and_an_abstract_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let rx = UnixDatagram::bind(&path).unwrap();
    let n = Notifier::new(
        Some(path.display().to_string()),
        Some("2000000".into()),
        None,
    );
    n.ready("1 secret fresh");
    n.watchdog();
    let mut buf = [0u8; 256];
    let len = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"READY=1\nSTATUS=1 secret fresh");
    let len = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"WATCHDOG=1");
    assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(1)));

    let name = format!("vaultkeeper-test-{}", std::process::id());
    let abs = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let rx = UnixDatagram::bind_addr(&abs).unwrap();
    let n = Notifier::new(Some(format!("@{name}")), None, None);
    n.stopping();
    let len = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"STOPPING=1\nSTATUS=stopping");
}

#[test]
fn watchdog_is_off_for_another_pid_or_without_usec() {
    let n = Notifier::new(None, Some("1000000".into()), Some("1".into()));
    assert_eq!(n.watchdog_timeout(), None);
    let n = Notifier::new(None, None, None);
    assert_eq!(n.watchdog_interval(), None);
    let n = Notifier::new(
        None,
        Some("3000000".into()),
        Some(std::process::id().to_string()),
    );
    assert_eq!(n.watchdog_timeout(), Some(Duration::from_secs(3)));
    // No socket: sending is a silent no-op.
    n.ready("x");
    assert!(!n.enabled());
    let bad = Notifier::new(Some("relative".into()), None, None);
    assert!(!bad.enabled());
}

#[test]
fn monotonic_clock_moves_forward() {
    let a = monotonic_usec();
    std::thread::sleep(Duration::from_millis(2));
    assert!(monotonic_usec() >= a + 2000);
}
