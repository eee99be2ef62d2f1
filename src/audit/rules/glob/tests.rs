//! Unit tests of glob.rs.

use super::matches;

#[test]
fn stars_and_question_marks() {
    assert!(matches(
        "secret/data/prod/*",
        "secret/data/prod/db/password"
    ));
    assert!(!matches("secret/data/prod/*", "secret/data/staging/db"));
    assert!(matches("sys/*/tune", "sys/mounts/kv/tune"));
    assert!(matches("auth/?pprole/login", "auth/approle/login"));
    assert!(matches("*", ""));
    assert!(!matches("a?", "a"));
    assert!(matches("a*b*c", "axxbyyc"));
    assert!(!matches("a*b*c", "axxbyy"));
    assert!(matches("exact", "exact"));
}
