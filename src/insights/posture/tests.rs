use super::*;

#[test]
fn a_token_that_read_nothing_is_told_apart_from_a_low_score() {
    let tls = Finding::new("tls", "TLS", 15).scored(0, vec![], "use TLS");
    let denied = Finding::new("audit_devices", "A", 15).not_assessed("denied");
    let r = score(vec![tls.clone(), denied.clone()], "http://x".into());
    assert!(r.assessed_weight > 0, "the TLS check still counts");
    assert!(r.token_read_nothing());
    let read = Finding::new("root_tokens", "R", 10).scored(10, vec![], "x");
    assert!(!score(vec![tls.clone(), denied, read], "http://x".into()).token_read_nothing());
    assert!(!score(vec![tls], "http://x".into()).token_read_nothing());
}

#[test]
fn score_counts_only_assessed_checks() {
    let a = Finding::new("a", "A", 10).scored(10, vec![], "x");
    let b = Finding::new("b", "B", 30).scored(15, vec![], "fix b");
    let c = Finding::new("c", "C", 60).not_assessed("denied");
    let r = score(vec![a.clone(), b.clone(), c], "http://x".into());
    assert_eq!(
        (r.score, r.assessed_weight, r.total_weight, r.not_assessed),
        (63, 40, 100, 1)
    );
    assert_eq!(a.outcome, Outcome::Pass);
    assert_eq!(a.fix, None);
    assert_eq!(b.outcome, Outcome::Warn);
    assert_eq!(b.fix.as_deref(), Some("fix b"));
    let none = score(
        vec![Finding::new("c", "C", 5).not_assessed("x")],
        "h".into(),
    );
    assert_eq!(none.score, 0);
    assert_eq!(Finding::new("d", "D", 10).fraction(1, 3), 3);
    assert_eq!(Finding::new("d", "D", 10).fraction(0, 0), 10);
}
