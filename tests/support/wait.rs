//! Waiting for something to become true in a test, with a deadline: the one
//! polling loop of the test suite.

use std::time::{Duration, Instant};

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(50);

/// Polls `f` until it returns `Some`; after `timeout`, panics with `failure()`
/// (which may show what was seen, e.g. a log).
pub fn wait_for_or<T>(
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
    failure: impl FnOnce() -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("{}", failure());
        }
        std::thread::sleep(POLL);
    }
}

/// Polls `f` until it returns `Some`, or panics naming `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
    wait_for_or(timeout, f, || {
        format!("timed out after {timeout:?} waiting for {what}")
    })
}

/// Polls `f` until it is true, or panics naming `what` after `timeout`;
/// returns how long it took.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    wait_for(what, timeout, || f().then_some(()));
    start.elapsed()
}
