//! Unit tests of entry.rs.

use super::*;

#[test]
fn reads_an_openbao_response_line() {
    let line = r#"{"time":"2026-11-22T08:51:47.277301907Z","type":"response","auth":{"client_token":"hmac-sha256:e3","accessor":"hmac-sha256:18","display_name":"token","policies":["root"],"token_policies":["root"],"token_type":"service"},"request":{"id":"0c4f","operation":"update","mount_type":"token","path":"auth/token/create","data":{"no_parent":true,"ttl":"hmac-sha256:c0"},"remote_address":"127.0.0.1","remote_port":37880},"response":{"auth":{"accessor":"hmac-sha256:71","display_name":"token-emergency","policies":["root"]},"mount_type":"token"}}"#;
    let e = Entry::parse(line).unwrap();
    assert!(e.is_response());
    assert_eq!(
        (e.path(), e.operation(), e.request_id(), e.remote_address()),
        ("auth/token/create", "update", "0c4f", "127.0.0.1")
    );
    assert!(e.caller_is_root());
    assert_eq!(
        e.new_token().unwrap().display_name.as_deref(),
        Some("token-emergency")
    );
    assert_eq!(
        e.request_field("no_parent"),
        Some(serde_json::Value::Bool(true))
    );
    assert_eq!(e.error(), None);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "{{\"type\":\"request\",\"request\":{{\"data\":{}{}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    // `data` is skipped unparsed; reading a field from it hits the recursion limit.
    let e = Entry::parse(&deep).unwrap();
    assert_eq!(e.request_field("x"), None);
    let deep = format!(
        "{{\"type\":\"request\",\"auth\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(Entry::parse(&deep).is_err());
    assert!(Entry::parse("{\"no_type\":1}").is_err());
    assert!(Entry::parse("not json").is_err());
}
