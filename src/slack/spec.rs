//! The `slack` object of the spec, used by `audit.slack` and `insights.slack`:
//!
//! ```json
//! "slack": { "webhookUrlFile": "/run/secrets/slack/webhook-url", "timeout": "10s", "responseTimeout": "60s" }
//! ```
//!
//! `timeout` bounds connecting and sending a POST; once its body has been
//! handed to the connection, `responseTimeout` (longer) bounds the wait for
//! Slack's answer. A POST that gets no answer then is not sent again (see
//! [`crate::slack::sender`]): at most one post per message.
//!
//! The webhook URL is itself a secret: only the path of a file holding it goes
//! in the spec (and so in the Nix store).

use crate::spec::interval::parse_duration;
use crate::spec::Problem;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSlack {
    pub webhook_url_file: String,
    pub timeout: Option<String>,
    pub response_timeout: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackSpec {
    /// A file holding the incoming-webhook URL (a secret: never logged).
    pub webhook_url_file: PathBuf,
    /// How long connecting and sending one POST may take (retried after).
    pub timeout: Duration,
    /// How long to wait for Slack's answer once the body was sent (never
    /// retried after: the message may already be in Slack).
    pub response_timeout: Duration,
}

/// `responseTimeout` when the spec does not say: 60 s, or `timeout` if longer.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Validates a `slack` object found at JSON path `at` (e.g. `audit.slack`).
pub fn resolve(raw: RawSlack, at: &str, problems: &mut Vec<Problem>) -> SlackSpec {
    let webhook_url_file = PathBuf::from(&raw.webhook_url_file);
    if !webhook_url_file.is_absolute() {
        problems.push(Problem::new(
            format!("{at}.webhookUrlFile"),
            format!(
                "{:?} is not an absolute path; write e.g. \"/run/secrets/slack/webhook-url\" (the URL itself never goes in the spec)",
                raw.webhook_url_file
            ),
        ));
    }
    let timeout = match raw.timeout.as_deref().map(parse_duration) {
        None => Duration::from_secs(10),
        Some(Ok(d)) if !d.is_zero() => d,
        Some(Ok(_)) => {
            problems.push(Problem::new(
                format!("{at}.timeout"),
                "must be longer than zero, e.g. \"10s\"",
            ));
            Duration::from_secs(10)
        }
        Some(Err(e)) => {
            problems.push(Problem::new(format!("{at}.timeout"), e));
            Duration::from_secs(10)
        }
    };
    let default_response = DEFAULT_RESPONSE_TIMEOUT.max(timeout);
    let response_timeout = match raw.response_timeout.as_deref().map(parse_duration) {
        None => default_response,
        Some(Ok(d)) if d >= timeout && !d.is_zero() => d,
        Some(Ok(d)) => {
            problems.push(Problem::new(
                format!("{at}.responseTimeout"),
                format!(
                    "{}s is shorter than {at}.timeout ({}s); the wait for Slack's answer after sending must be at least as long, e.g. \"60s\"",
                    d.as_secs_f64(),
                    timeout.as_secs_f64()
                ),
            ));
            default_response
        }
        Some(Err(e)) => {
            problems.push(Problem::new(format!("{at}.responseTimeout"), e));
            default_response
        }
    };
    SlackSpec {
        webhook_url_file,
        timeout,
        response_timeout,
    }
}

#[cfg(test)]
mod tests {
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
}
