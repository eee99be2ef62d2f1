//! Unit tests of chat/mod.rs.

use super::*;

#[test]
fn only_slack_response_urls_are_followed() {
    let ok = "https://hooks.slack.com/commands/T1/2/abc";
    assert!(check_response_url(ok, None).is_some());
    for bad in [
        "",
        "http://hooks.slack.com/commands/T1/2/abc",
        "https://hooks.slack.com:8443/commands/x",
        "https://hooks.slack.com.evil.example/commands/x",
        "https://evil.example/?hooks.slack.com",
        "https://user@hooks.slack.com/commands/x",
        "https://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:4000/commands/x",
        "file:///etc/shadow",
    ] {
        assert!(check_response_url(bad, None).is_none(), "{bad}");
    }
    let t = Some("http://127.0.0.1:4000");
    assert!(check_response_url("http://127.0.0.1:4000/services/x", t).is_some());
    assert!(check_response_url("http://127.0.0.1:4001/services/x", t).is_none());
    assert!(check_response_url("http://localhost:4000/services/x", t).is_none());
    assert!(check_response_url(ok, t).is_some(), "Slack still works");
    assert!(check_response_url(&format!("{ok}{}", "a".repeat(3000)), None).is_none());
}
