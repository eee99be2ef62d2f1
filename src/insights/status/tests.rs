use super::*;

fn dev(kind: &str) -> AuditDevice {
    AuditDevice {
        path: format!("{kind}/"),
        kind: kind.into(),
    }
}

#[test]
fn socket_without_file_is_loud() {
    assert!(audit_warning(&[dev("socket")])
        .unwrap()
        .starts_with("A SOCKET AUDIT DEVICE HAS NO FILE DEVICE"));
    assert_eq!(audit_warning(&[dev("socket"), dev("file")]), None);
    assert_eq!(audit_warning(&[dev("file")]), None);
    assert!(audit_warning(&[]).unwrap().starts_with("NO AUDIT DEVICE"));
}
