//! Unit tests of duration.rs.

use super::*;

#[test]
fn absent_gives_the_default_and_a_bad_value_a_problem_at_its_path() {
    let mut problems = Vec::new();
    let d = Duration::from_secs(30);
    assert_eq!(duration(&mut problems, "a.b", None, d), d);
    assert_eq!(
        duration(&mut problems, "a.b", Some("5m"), d),
        Duration::from_secs(300)
    );
    assert!(problems.is_empty());
    assert_eq!(duration(&mut problems, "a.b", Some("soon"), d), d);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "a.b");
    assert!(problems[0].message.contains("\"soon\" is not a duration"));
}

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
