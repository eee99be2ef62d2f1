//! Unit tests of slack.rs.

use super::*;

fn parse(timeout: Option<&str>, response: Option<&str>) -> (SlackSpec, Vec<Problem>) {
    let mut problems = Vec::new();
    let s = resolve(
        RawSlack {
            webhook_url_file: "/run/secrets/slack/webhook-url".into(),
            timeout: timeout.map(str::to_string),
            response_timeout: response.map(str::to_string),
        },
        "audit.slack",
        &mut problems,
    );
    (s, problems)
}

#[test]
fn the_response_timeout_defaults_to_a_minute_and_is_never_shorter_than_the_timeout() {
    let (s, p) = parse(None, None);
    assert!(p.is_empty());
    assert_eq!(
        (s.timeout, s.response_timeout),
        (Duration::from_secs(10), Duration::from_secs(60))
    );
    let (s, p) = parse(Some("90s"), None);
    assert!(p.is_empty());
    assert_eq!(
        s.response_timeout,
        Duration::from_secs(90),
        "at least timeout"
    );
    let (s, p) = parse(Some("2s"), Some("5m"));
    assert!(p.is_empty());
    assert_eq!(s.response_timeout, Duration::from_secs(300));
    let (_, p) = parse(Some("30s"), Some("10s"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "audit.slack.responseTimeout");
    assert!(
        p[0].message.contains("shorter than audit.slack.timeout"),
        "{}",
        p[0].message
    );
    let (_, p) = parse(None, Some("soon"));
    assert_eq!(p[0].path, "audit.slack.responseTimeout");
}
