//! The `slack` object of the spec, used by `audit.slack` and `insights.slack`:
//!
//! ```json
//! "slack": { "webhookUrlFile": "/run/secrets/slack/webhook-url", "timeout": "10s" }
//! ```
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackSpec {
    /// A file holding the incoming-webhook URL (a secret: never logged).
    pub webhook_url_file: PathBuf,
    /// How long one POST may take.
    pub timeout: Duration,
}

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
    SlackSpec {
        webhook_url_file,
        timeout,
    }
}
