use super::*;

fn token(path: &str, ttl: u64, policies: &[&str]) -> TokenEntry {
    TokenEntry {
        accessor: "acc".into(),
        display_name: "token-ci".into(),
        policies: policies.iter().map(|p| p.to_string()).collect(),
        path: path.into(),
        creation_time: 0,
        ttl_seconds: ttl,
        expire_time: (ttl > 0).then(|| "2030-01-01T00:00:00Z".into()),
        kind: "service".into(),
    }
}

#[test]
fn suggestions_come_with_evidence() {
    let tokens = vec![
        token("auth/token/create", 0, &["deploy"]),
        token("auth/token/create", 0, &["root"]),
        token("auth/approle/login", 3600, &["host"]),
    ];
    let auths = vec![
        AuthMethod {
            path: "token/".into(),
            kind: "token".into(),
            tokens: Some(2),
        },
        AuthMethod {
            path: "userpass/".into(),
            kind: "userpass".into(),
            tokens: Some(0),
        },
        AuthMethod {
            path: "approle/".into(),
            kind: "approle".into(),
            tokens: Some(1),
        },
    ];
    let s = suggest(Some(&tokens), &auths, Some(false), None);
    let ids: Vec<_> = s.iter().map(|s| s.id).collect();
    assert_eq!(
        ids,
        vec![
            "static_tokens",
            "userpass_without_mfa",
            "unused_auth_method"
        ]
    );
    assert_eq!(
        s[0].evidence,
        vec!["token \"token-ci\" (accessor acc, policies deploy) never expires"]
    );
    assert!(s[0].text.starts_with("1 long-lived token(s)"));
    let stats = AuditStats {
        requests_by_auth_method: [("root".to_string(), 4)].into(),
        requests_by_path_prefix: [("auth/userpass".to_string(), 2)].into(),
        time: "T".into(),
        ..Default::default()
    };
    let s = suggest(Some(&tokens[2..]), &auths, Some(true), Some(&stats));
    let ids: Vec<_> = s.iter().map(|s| s.id).collect();
    assert_eq!(ids, vec!["root_token_in_use"]);
    assert_eq!(
        s[0].evidence,
        vec!["4 request(s) by display name \"root\" in the audit counters since T"]
    );
}

#[test]
fn audit_stats_file_format_is_the_listeners() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read_audit_stats(dir.path()), Ok(None));
    std::fs::create_dir(dir.path().join("audit")).unwrap();
    std::fs::write(
            dir.path().join("audit/stats.json"),
            r#"{"time":"2026-11-22T08:00:00.000Z","connections":3,"entries":10,"requests_by_type":{"request":5,"response":5},"requests_by_operation":{"read":4,"update":1},"requests_by_path_prefix":{"secret/data":4},"requests_by_auth_method":{"approle":4},"dropped":{"too_long":0},"outbox":0,"delivered":0,"alerts":{}}"#,
        )
        .unwrap();
    let s = read_audit_stats(dir.path()).unwrap().unwrap();
    assert_eq!(s.entries, 10);
    assert_eq!(s.requests_by_operation["read"], 4);
    assert_eq!(s.requests_by_auth_method["approle"], 4);
    std::fs::write(dir.path().join("audit/stats.json"), "{").unwrap();
    assert!(read_audit_stats(dir.path())
        .unwrap_err()
        .contains("is not audit statistics"));
}

#[test]
fn auth_mounts_of_token_paths() {
    assert_eq!(
        auth_mount_of_path("auth/approle/login").as_deref(),
        Some("approle/")
    );
    assert_eq!(
        auth_mount_of_path("auth/token/create").as_deref(),
        Some("token/")
    );
    assert_eq!(auth_mount_of_path(""), None);
}
