//! Unit tests of render.rs.

use super::*;

fn texts(v: &Value) -> String {
    v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["text"]["text"]
                .as_str()
                .or(b["elements"][0]["text"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn help_lists_every_command_with_the_configured_name() {
    let h = help("web01", "/bao", Some("<!channel>"));
    let t = texts(&h);
    for w in ["status", "posture", "leases", "usage", "updates", "help"] {
        assert!(t.contains(&format!("`/bao {w}`")), "{t}");
    }
    assert!(t.contains("I do not know `&lt;!channel&gt;`"), "{t}");
    assert!(!t.contains("<!channel>"), "mentions are escaped: {t}");
    let odd = help("web01", "not-a-command\n", None);
    assert!(texts(&odd).contains("`/vault status`"));
}

#[test]
fn respond_adds_type_and_age() {
    let a = json!({"text": "t", "blocks": [section("x")]});
    let r = respond(&a, "ephemeral", Some(86400), 86400 + 75);
    assert_eq!(r["response_type"], "ephemeral");
    assert_eq!(
        r["blocks"][1]["elements"][0]["text"],
        "Collected 1970-01-02T00:00:00Z (1m 15s ago)"
    );
    assert_eq!(
        respond(&a, "in_channel", None, 0)["blocks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
