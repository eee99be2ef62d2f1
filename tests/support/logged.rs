//! Assertions on what a process logged (its stderr, a daemon's log file, a
//! journal): on failure they print the needle and the whole log.

/// Panics, printing `log`, unless it contains `needle`.
#[track_caller]
pub fn assert_logged(log: &str, needle: &str) {
    assert!(
        log.contains(needle),
        "expected {needle:?} in the log:\n{log}"
    );
}

/// Panics, printing `log`, if it contains `needle`.
#[track_caller]
pub fn assert_not_logged(log: &str, needle: &str) {
    assert!(
        !log.contains(needle),
        "{needle:?} must not be in the log, but it is:\n{log}"
    );
}
