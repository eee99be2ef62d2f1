//! Unit tests of spec.rs.

use super::*;

#[test]
fn a_bare_audit_section_or_nothing_gives_rules() {
    let a = from_json("x.json", r#"{"rules":{"seal":{"enabled":false}}}"#).unwrap();
    assert!(!a.rule("seal").enabled);
    assert!(a.rule("root-token-used").enabled);
    let d = AuditSpec::defaults();
    assert_eq!(d.rules.len(), BUILTIN.len());
    assert!(d.listen.is_empty());
}
