//! Unit tests of limits.rs.

use super::*;

#[test]
fn shorter_than_a_second_is_reported_with_the_example() {
    let mut problems = Vec::new();
    at_least_one_second(&mut problems, "x", Duration::from_secs(1), "5m");
    assert!(problems.is_empty());
    at_least_one_second(&mut problems, "x", Duration::from_millis(999), "5m");
    assert_eq!(problems[0].path, "x");
    assert_eq!(
        problems[0].message,
        "must be at least one second, e.g. \"5m\""
    );
}
