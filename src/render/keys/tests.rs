use super::*;
use serde_json::json;

#[test]
fn traversal_keys_are_refused() {
    for bad in ["", ".", "..", "../etc/passwd", "a/b", "a\0b"] {
        assert!(check_key(bad).is_err(), "{bad:?} was accepted");
    }
    for good in ["password", ".env", "tls.crt", "a..b", "with space"] {
        assert!(check_key(good).is_ok(), "{good:?} was refused");
    }
}

#[test]
fn values_become_bytes() {
    let d = SecretData(
        [
            ("s".to_string(), json!("plain")),
            ("n".to_string(), json!(42)),
            ("o".to_string(), json!({"a": [1, true]})),
        ]
        .into_iter()
        .collect(),
    );
    let files = files_for(&d).unwrap();
    assert_eq!(
        files,
        vec![
            ("n".to_string(), b"42".to_vec()),
            ("o".to_string(), br#"{"a":[1,true]}"#.to_vec()),
            ("s".to_string(), b"plain".to_vec()),
        ]
    );
}
