use super::*;

fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(prefix))
}

#[test]
fn encodes_the_classic_text_format_with_values() {
    let m = Metrics::new();
    m.track_secret("db");
    m.track_secret("web");
    m.secret_fresh("db", 1_000);
    m.secret_from_cache("web", 400);
    m.secret_failed("web");
    m.secret_failed("web");
    m.set_token(TokenExpiry::At(1_300));
    m.vault_request("http://127.0.0.1:8200", Outcome::of_status(200));
    m.vault_request("http://127.0.0.1:8200", Outcome::of_status(503));
    m.vault_request("http://127.0.0.1:8202", Outcome::ConnectionError);
    let t = m.encode(1_060);
    // Counters are typed with their _total name (what node-exporter's parser needs).
    assert!(
        t.contains("# TYPE vaultkeeper_secret_render_errors_total counter"),
        "{t}"
    );
    assert_eq!(
        line(&t, "vaultkeeper_secret_render_errors_total{secret=\"web\"}"),
        Some("vaultkeeper_secret_render_errors_total{secret=\"web\"} 2")
    );
    assert_eq!(
        line(&t, "vaultkeeper_secret_cache_age_seconds{secret=\"db\"}"),
        Some("vaultkeeper_secret_cache_age_seconds{secret=\"db\"} 60")
    );
    assert_eq!(
        line(&t, "vaultkeeper_secret_cache_age_seconds{secret=\"web\"}"),
        Some("vaultkeeper_secret_cache_age_seconds{secret=\"web\"} 660")
    );
    assert_eq!(
        line(&t, "vaultkeeper_secret_served_from_cache{secret=\"web\"}"),
        Some("vaultkeeper_secret_served_from_cache{secret=\"web\"} 1")
    );
    assert_eq!(
        line(&t, "vaultkeeper_secret_served_from_cache{secret=\"db\"}"),
        Some("vaultkeeper_secret_served_from_cache{secret=\"db\"} 0")
    );
    assert_eq!(
        line(&t, "vaultkeeper_token_ttl_seconds "),
        Some("vaultkeeper_token_ttl_seconds 240")
    );
    assert!(t.contains(
        "vaultkeeper_vault_requests_total{address=\"http://127.0.0.1:8200\",outcome=\"unavailable\"} 1"
    ));
    assert!(t.contains(
        "vaultkeeper_vault_requests_total{address=\"http://127.0.0.1:8202\",outcome=\"connection_error\"} 1"
    ));
    assert!(t.contains("vaultkeeper_token_valid 1"));
    m.set_token(TokenExpiry::Never);
    let never = m.encode(0);
    assert!(!never.contains("vaultkeeper_token_ttl_seconds "), "{never}");
    assert!(never.contains("vaultkeeper_token_valid 1"));
    m.set_token(TokenExpiry::None);
    let none = m.encode(0);
    assert!(none.contains("vaultkeeper_token_ttl_seconds 0"), "{none}");
    assert!(none.contains("vaultkeeper_token_valid 0"));
    m.forget_secret("web");
    assert!(!m.encode(0).contains("secret=\"web\""));
}

#[test]
fn audit_totals_only_go_up_across_a_listener_restart() {
    let m = Metrics::new();
    let snap = |lines, overload, alerts| AuditTotals {
        lines_read: lines,
        entries: lines,
        open_connections: 2,
        dropped: [("overload".to_string(), overload)].into(),
        alerts: [("root-token-used".to_string(), alerts)].into(),
    };
    m.audit_totals(snap(10, 1, 1));
    m.audit_totals(snap(15, 3, 1));
    // A reload restarts the listener: its counters start again from zero.
    m.audit_listener_started();
    m.audit_totals(snap(4, 0, 2));
    let t = m.encode(0);
    assert!(t.contains("vaultkeeper_audit_lines_read_total 19"), "{t}");
    assert!(
        t.contains("vaultkeeper_audit_lines_dropped_total{reason=\"overload\"} 3"),
        "{t}"
    );
    assert!(
        t.contains("vaultkeeper_audit_alerts_total{rule=\"root-token-used\"} 3"),
        "{t}"
    );
    assert!(t.contains("vaultkeeper_audit_connections_open 2"), "{t}");
}

#[test]
fn label_values_are_escaped() {
    let m = Metrics::new();
    m.vault_request("http://a\"b\\c\nd", Outcome::Timeout);
    let t = m.encode(0);
    assert!(
        t.contains(r#"address="http://a\"b\\c\nd""#),
        "label not escaped: {t}"
    );
}
