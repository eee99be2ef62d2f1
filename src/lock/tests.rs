use super::*;

#[test]
fn a_second_writer_waits_then_gets_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let held = SecretLock::acquire_in(t.path(), "app", Duration::from_secs(1)).unwrap();
    let started = Instant::now();
    let e = SecretLock::acquire_in(t.path(), "app", Duration::from_millis(200)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    let msg = e.to_string();
    assert!(
        msg.contains("secret app")
            && msg.contains("another vaultkeeper process")
            && msg.contains("locks/app.lock"),
        "{msg}"
    );
    // Another secret is independent.
    SecretLock::acquire_in(t.path(), "other", Duration::ZERO).unwrap();
    // Released on drop: the waiter gets it.
    let waiter = {
        let p = t.path().to_path_buf();
        std::thread::spawn(move || {
            SecretLock::acquire_in(&p, "app", Duration::from_secs(5)).map(|_| ())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    drop(held);
    waiter.join().unwrap().unwrap();
    // Lock files are in stateDir/locks, 0700.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(t.path().join("locks")).unwrap().mode() & 0o7777,
        0o700
    );
}

#[test]
fn acquire_all_takes_them_in_name_order_and_refuses_bad_names() {
    let t = tempfile::tempdir().unwrap();
    let locks = SecretLock::acquire_all(t.path(), ["b", "a", "b"], Duration::ZERO).unwrap();
    let names: Vec<&str> = locks.iter().map(|l| l.secret()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(SecretLock::acquire_in(t.path(), "../x", Duration::ZERO).is_err());
}
