//! Unit tests of engine_counts.rs.

use super::*;

#[test]
fn prefixes() {
    assert_eq!(path_prefix("secret/data/hosts/a"), "secret/data");
    assert_eq!(path_prefix("sys/seal"), "sys/seal");
    assert_eq!(path_prefix("sys"), "sys");
    assert_eq!(path_prefix("sys/"), "sys");
}

#[test]
fn a_breakdown_keeps_at_most_max_keys_and_counts_the_rest_as_other() {
    let mut m = BTreeMap::new();
    for i in 0..MAX_KEYS + 5 {
        bump(&mut m, &format!("k{i}"));
    }
    bump(&mut m, "k0");
    assert_eq!(m.len(), MAX_KEYS + 1);
    assert_eq!(m["(other)"], 5);
    assert_eq!(m["k0"], 2);
}
