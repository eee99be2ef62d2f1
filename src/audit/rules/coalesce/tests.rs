//! Unit tests of coalesce.rs.

use super::*;

fn alert(rule: &str, sev: Severity, id: usize) -> Alert {
    let mut a = crate::audit::alert::tests_support::alert(rule);
    a.severity = sev;
    a.request_id = format!("r{id}");
    a.path = format!("sys/policy/p{id}");
    a.display_name = format!("user{id}");
    a
}

#[test]
fn critical_events_are_posted_one_by_one_then_summarised_with_each_listed() {
    let mut c = Coalescer::default();
    let mut out = Vec::new();
    for i in 0..25 {
        c.hit(
            "k".into(),
            300_000,
            1000 + i as i64,
            alert("root-token-created", Severity::Critical, i),
            &mut out,
        );
    }
    assert_eq!(out.len(), 10);
    assert!(out.iter().all(|a| !a.summary));
    c.tick(61_000, &mut out);
    assert_eq!(out.len(), 11);
    let s = &out[10];
    assert!(s.summary);
    assert_eq!(s.count, 15);
    let ids: Vec<&str> = s.events.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(ids, (10..25).map(|i| format!("r{i}")).collect::<Vec<_>>());
    assert_eq!(s.events[0].path, "sys/policy/p10");
    assert_eq!(s.events[0].actor, "user10");
    assert_eq!(s.unlisted, 0);
    // A new minute: posted individually again.
    c.hit(
        "k".into(),
        300_000,
        62_000,
        alert("root-token-created", Severity::Critical, 99),
        &mut out,
    );
    assert_eq!(out.len(), 12);
    assert!(!out[11].summary);
}

#[test]
fn other_summaries_list_fifty_then_count() {
    let mut c = Coalescer::default();
    let mut out = Vec::new();
    for i in 0..80 {
        c.hit(
            "k".into(),
            300_000,
            1000 + i as i64,
            alert("policy-changed", Severity::High, i),
            &mut out,
        );
    }
    assert_eq!(out.len(), 1);
    c.flush(&mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].count, 79);
    assert_eq!(out[1].events.len(), LISTED);
    assert_eq!(out[1].events[0].request_id, "r1");
    assert_eq!(out[1].unlisted, 29);
}
