//! Unit tests of outbox.rs.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn msg(label: &str) -> Message {
    Message {
        label: label.into(),
        payload: serde_json::json!({ "text": label }),
    }
}

#[test]
fn survives_reopening_in_order() {
    let t = tempfile::tempdir().unwrap();
    let o = Outbox::open(t.path(), "audit").unwrap();
    assert_eq!(o.push(&msg("a")).unwrap(), 1);
    assert_eq!(o.push(&msg("b")).unwrap(), 2);
    o.remove(1).unwrap();
    drop(o);
    let o = Outbox::open(t.path(), "audit").unwrap();
    assert_eq!(o.list().unwrap(), vec![2]);
    assert_eq!(
        o.push(&msg("c")).unwrap(),
        3,
        "numbering continues after the newest"
    );
    assert_eq!(o.read(2).unwrap().unwrap(), msg("b"));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&t.path().join("audit")), 0o700);
    assert_eq!(mode(&t.path().join("audit/outbox")), 0o700);
    assert_eq!(
        mode(&t.path().join("audit/outbox/00000000000000000003.json")),
        0o600
    );
    std::fs::write(
        t.path().join("audit/outbox/00000000000000000009.json"),
        "garbage",
    )
    .unwrap();
    assert_eq!(o.read(9).unwrap(), None);
    assert_eq!(o.list().unwrap(), vec![2, 3]);
    // Another area has its own queue.
    let other = Outbox::open(t.path(), "insights").unwrap();
    assert!(other.is_empty());
    assert_eq!(other.push(&msg("digest")).unwrap(), 1);
}

#[test]
fn an_in_flight_message_is_set_aside_not_queued_again() {
    let t = tempfile::tempdir().unwrap();
    let o = Outbox::open(t.path(), "audit").unwrap();
    o.push(&msg("a")).unwrap();
    o.push(&msg("b")).unwrap();
    assert_eq!(o.in_flight(), None);
    o.mark_in_flight(1).unwrap();
    drop(o);
    // A new start (the agent was killed while waiting for Slack's answer).
    let o = Outbox::open(t.path(), "audit").unwrap();
    assert_eq!(o.in_flight(), Some(1));
    let at = o.set_aside(1).unwrap();
    assert_eq!(
        at,
        t.path().join("audit/unconfirmed/00000000000000000001.json")
    );
    assert_eq!(
        std::fs::read(&at).unwrap(),
        serde_json::to_vec(&msg("a")).unwrap()
    );
    assert_eq!(o.in_flight(), None);
    assert_eq!(o.list().unwrap(), vec![2], "b stays queued, a is not");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&o.unconfirmed_dir()), 0o700);
    // A marker for a message already gone: nothing to move, marker cleared.
    o.mark_in_flight(7).unwrap();
    o.set_aside(7).unwrap();
    assert_eq!(o.in_flight(), None);
    // Bounded: the oldest unconfirmed messages go first.
    for _ in 0..5 {
        let seq = o.push(&msg("x")).unwrap();
        o.set_aside_keeping(seq, 3).unwrap();
    }
    assert_eq!(std::fs::read_dir(o.unconfirmed_dir()).unwrap().count(), 3);
    assert!(!o.unconfirmed_dir().join(name(1)).exists());
}
