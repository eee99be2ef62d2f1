//! Unit tests of memory.rs.

use super::*;

#[test]
fn failed_logins_count_within_the_window_only() {
    let mut m = RuleMemory::new();
    let k = || "auth/approle/login|r|10.0.0.9".to_string();
    assert_eq!(m.login_failure(k(), 0, 1000), 1);
    assert_eq!(m.login_failure(k(), 500, 1000), 2);
    assert_eq!(
        m.login_failure(k(), 1000, 1000),
        2,
        "the one at 0 left the window"
    );
    assert_eq!(m.login_failure("other".into(), 1000, 1000), 1);
    m.forget_logins_before(1000);
    assert_eq!(m.login_failure(k(), 5000, 1000), 1, "forgotten");
}

#[test]
fn a_failure_and_a_root_address_count_once() {
    let mut m = RuleMemory::new();
    assert!(m.first_failure("req-1"));
    assert!(!m.first_failure("req-1"));
    assert!(m.first_failure(""), "no id: always counted");
    assert!(m.first_failure(""));
    assert!(m.first_root_address("10.0.0.9"));
    assert!(!m.first_root_address("10.0.0.9"));
    assert!(m.first_root_address("10.0.0.10"));
}
