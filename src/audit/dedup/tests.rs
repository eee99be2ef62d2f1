//! Unit tests of dedup.rs.

use super::*;

#[test]
fn same_type_and_id_once_and_bounded() {
    let mut d = Dedup::new(3);
    assert!(d.first("request", "a"));
    assert!(d.first("response", "a"));
    assert!(!d.first("request", "a"));
    assert!(d.first("request", "b"));
    assert!(d.first("request", "c"));
    assert_eq!(d.len(), 3);
    assert!(d.first("request", "a"), "forgotten after cap newer keys");
}
