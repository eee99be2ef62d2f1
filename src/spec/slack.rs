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

use super::error::Problem;
use crate::spec::interval::parse_duration;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawSlack {
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
pub(crate) const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Validates a `slack` object found at JSON path `at` (e.g. `audit.slack`).
pub(crate) fn resolve(raw: RawSlack, at: &str, problems: &mut Vec<Problem>) -> SlackSpec {
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
mod tests;
