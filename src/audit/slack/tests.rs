//! Unit tests of slack.rs.

use super::*;

#[test]
fn payload_respects_block_kit_limits_and_escapes() {
    let mut a = crate::audit::alert::tests_support::alert("policy-changed");
    a.title = "x".repeat(500);
    a.display_name = "<!channel> & co".into();
    a.detail = Some("d".repeat(5000));
    let p = payload(&a, "h1");
    assert!(p["text"]
        .as_str()
        .unwrap()
        .contains("&lt;!channel&gt; &amp; co"));
    let blocks = p["blocks"].as_array().unwrap();
    assert!(blocks.len() <= MAX_BLOCKS);
    let header = blocks[0]["text"]["text"].as_str().unwrap();
    assert_eq!(header.chars().count(), MAX_HEADER);
    assert!(blocks[1]["text"]["text"].as_str().unwrap().chars().count() <= MAX_SECTION_TEXT);
    let fields = blocks[2]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 8);
    assert!(fields
        .iter()
        .all(|f| f["type"] == "mrkdwn"
            && f["text"].as_str().unwrap().chars().count() <= MAX_FIELD_TEXT));
    assert!(fields[0]["text"]
        .as_str()
        .unwrap()
        .contains("&lt;!channel&gt;"));
    assert!(!p.to_string().contains("<!channel>"));
}

#[test]
fn an_alert_without_a_request_says_only_what_happened() {
    let mut a = crate::audit::alert::tests_support::alert("audit-overload");
    a.title = "12 audit lines from the Vault server were not evaluated (agent overloaded)".into();
    a.operation.clear();
    a.path.clear();
    let p = payload(&a, "h");
    assert_eq!(
        p["text"],
        "[HIGH] audit-overload: 12 audit lines from the Vault server were not evaluated (agent overloaded)"
    );
    let a = crate::audit::alert::tests_support::alert("seal");
    let t = payload(&a, "h")["text"].as_str().unwrap().to_string();
    assert!(t.contains(" — "), "{t}");
}

#[test]
fn a_summary_lists_its_events_within_block_kit_limits() {
    let mut a = crate::audit::alert::tests_support::alert("root-token-used");
    a.summary = true;
    a.count = 250;
    for i in 0..200 {
        let mut e = a.clone();
        e.request_id = format!("req-{i}");
        e.path = format!("secret/data/{}", "p".repeat(i % 40));
        a.events.push(e.event_ref());
    }
    a.unlisted = 50;
    let p = payload(&a, "h");
    let blocks = p["blocks"].as_array().unwrap();
    assert!(blocks.len() <= MAX_BLOCKS, "{}", blocks.len());
    let text: String = blocks
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    for b in blocks {
        if let Some(t) = b["text"]["text"].as_str() {
            assert!(t.chars().count() <= MAX_SECTION_TEXT);
        }
    }
    assert!(
        text.contains("`req-0`") && text.contains("`req-199`"),
        "all 200 listed"
    );
    assert!(text.contains("…and 50 more not listed here"));
}
