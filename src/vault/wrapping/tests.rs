use super::*;

#[test]
fn creation_paths() {
    assert!(is_expected_creation_path("sys/wrapping/wrap", "approle"));
    assert!(is_expected_creation_path(
        "auth/approle/role/web01/secret-id",
        "approle"
    ));
    assert!(!is_expected_creation_path(
        "auth/approle/role/web01/role-id",
        "approle"
    ));
    assert!(!is_expected_creation_path(
        "auth/approle/role//secret-id",
        "approle"
    ));
    assert!(!is_expected_creation_path(
        "auth/other/role/web01/secret-id",
        "approle"
    ));
    assert!(!is_expected_creation_path("auth/token/create", "approle"));
    assert!(!is_expected_creation_path("secret/data/x", "approle"));
}
