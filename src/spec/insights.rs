//! The `insights` section of the spec: the daemon's Slack digest schedule, the
//! sealed alert, and the release feed `vaultkeeper version-check` compares the
//! server with.
//!
//! ```json
//! "insights": {
//!   "digest": "weekly", "sealedAlert": true, "sealCheckInterval": "30s",
//!   "slack": { "webhookUrlFile": "/run/secrets/slack/ops-webhook" },
//!   "versionFeed": null
//! }
//! ```
//!
//! Without `insights.slack`, digests and sealed alerts go to `audit.slack`.

use super::slack::SlackSpec;
use super::{interval, Problem};
use serde::Deserialize;
use std::time::Duration;

/// The `insights` section exactly as JSON writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawInsights {
    /// `"off"`, `"daily"`, `"weekly"`, `"monthly"` or a duration such as `"36h"`.
    pub digest: Option<String>,
    /// A GitHub-releases-shaped JSON feed; `null` picks openbao/openbao or
    /// hashicorp/vault from what the server reports.
    pub version_feed: Option<String>,
    /// Alert at once when the server becomes sealed (default true).
    pub sealed_alert: Option<bool>,
    /// How often the daemon asks whether the server is sealed (default 30s).
    pub seal_check_interval: Option<String>,
    /// Where digests and sealed alerts go; default: `audit.slack`.
    pub slack: Option<super::slack::RawSlack>,
}

/// The resolved `insights` section. Absent section = no digest, default feed,
/// sealed alerts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InsightsSpec {
    /// How often the daemon sends the digest; `None` = never.
    pub digest: Option<Duration>,
    pub version_feed: Option<String>,
    pub sealed_alert: bool,
    pub seal_check_interval: Duration,
    /// `insights.slack` as written; [`crate::spec::Spec::insights_slack`] falls
    /// back to `audit.slack`.
    pub slack: Option<SlackSpec>,
}

/// Default for `insights.sealCheckInterval`.
pub(crate) const SEAL_CHECK_DEFAULT: Duration = Duration::from_secs(30);

impl Default for InsightsSpec {
    fn default() -> Self {
        InsightsSpec {
            digest: None,
            version_feed: None,
            sealed_alert: true,
            seal_check_interval: SEAL_CHECK_DEFAULT,
            slack: None,
        }
    }
}

pub(crate) fn resolve(raw: Option<RawInsights>, problems: &mut Vec<Problem>) -> InsightsSpec {
    let Some(raw) = raw else {
        return InsightsSpec::default();
    };
    let digest = match raw.digest.as_deref().map(str::trim) {
        None | Some("off") | Some("never") => None,
        Some(v) => match interval::parse_restart_interval(v) {
            Ok(d) if d >= Duration::from_secs(60) => Some(d),
            Ok(_) => {
                problems.push(Problem::new(
                    "insights.digest",
                    format!("{v:?} is shorter than a minute; write \"daily\", \"weekly\" or e.g. \"12h\""),
                ));
                None
            }
            Err(_) => {
                problems.push(Problem::new(
                    "insights.digest",
                    format!("{v:?} is not a digest schedule; write \"off\", \"daily\", \"weekly\", \"monthly\" or a duration such as \"12h\""),
                ));
                None
            }
        },
    };
    let version_feed = match raw.version_feed {
        Some(url) if url.is_empty() => None,
        Some(url) => {
            match reqwest::Url::parse(&url) {
                Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => {}
                _ => problems.push(Problem::new(
                    "insights.versionFeed",
                    format!("{url:?} is not an http(s) URL; write e.g. \"https://api.github.com/repos/openbao/openbao/releases\" or null for the default"),
                )),
            }
            Some(url)
        }
        None => None,
    };
    let seal_check_interval = match raw
        .seal_check_interval
        .as_deref()
        .map(interval::parse_duration)
    {
        None => SEAL_CHECK_DEFAULT,
        Some(Ok(d)) if d >= Duration::from_secs(1) => d,
        Some(Ok(_)) => {
            problems.push(Problem::new(
                "insights.sealCheckInterval",
                "must be at least one second, e.g. \"30s\"",
            ));
            SEAL_CHECK_DEFAULT
        }
        Some(Err(e)) => {
            problems.push(Problem::new("insights.sealCheckInterval", e));
            SEAL_CHECK_DEFAULT
        }
    };
    InsightsSpec {
        digest,
        version_feed,
        sealed_alert: raw.sealed_alert.unwrap_or(true),
        seal_check_interval,
        slack: raw
            .slack
            .map(|s| super::slack::resolve(s, "insights.slack", problems)),
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::Spec;
    use std::time::Duration;

    fn spec(insights: &str) -> Result<Spec, String> {
        let text =
            format!(r#"{{"vault":{{"address":"http://127.0.0.1:8200"}},"insights":{insights}}}"#);
        Spec::from_json("spec.json", &text).map_err(|e| e.to_string())
    }

    #[test]
    fn absent_or_null_section_means_defaults() {
        let s = Spec::from_json("x", r#"{"vault":{"address":"http://a:1"}}"#).unwrap();
        assert_eq!(s.insights, super::InsightsSpec::default());
        assert_eq!(
            spec("null").unwrap().insights,
            super::InsightsSpec::default()
        );
        assert!(s.insights.sealed_alert);
    }

    #[test]
    fn digest_words_durations_and_feed() {
        let s = spec(r#"{"digest":"weekly","versionFeed":"http://127.0.0.1:9/feed.json","sealedAlert":false,"slack":{"webhookUrlFile":"/run/secrets/ops-webhook"}}"#).unwrap();
        assert_eq!(s.insights.digest, Some(Duration::from_secs(7 * 86400)));
        assert_eq!(
            s.insights.version_feed.as_deref(),
            Some("http://127.0.0.1:9/feed.json")
        );
        assert!(!s.insights.sealed_alert);
        assert_eq!(s.insights.seal_check_interval, super::SEAL_CHECK_DEFAULT);
        assert_eq!(
            s.insights_slack().unwrap().webhook_url_file,
            std::path::PathBuf::from("/run/secrets/ops-webhook")
        );
        let slack = r#""slack":{"webhookUrlFile":"/w"}"#;
        assert_eq!(
            spec(&format!(r#"{{"digest":"12h",{slack}}}"#))
                .unwrap()
                .insights
                .digest,
            Some(Duration::from_secs(43200))
        );
        assert_eq!(
            spec(r#"{"digest":"off","versionFeed":null}"#)
                .unwrap()
                .insights
                .digest,
            None
        );
    }

    #[test]
    fn a_digest_needs_a_webhook_and_shares_the_audit_one() {
        assert_eq!(
            spec(r#"{"digest":"daily"}"#).unwrap_err(),
            "spec.json: insights.digest: a digest is posted to Slack, and no webhook is set: add insights.slack.webhookUrlFile (or audit.slack.webhookUrlFile, which digests share), or set the digest to \"off\""
        );
        let text = r#"{"vault":{"address":"http://127.0.0.1:8200"},"insights":{"digest":"daily","sealCheckInterval":"5s"},
            "audit":{"listen":["tcp:127.0.0.1:9090"],"slack":{"webhookUrlFile":"/run/secrets/alerts"}}}"#;
        let s = Spec::from_json("spec.json", text).unwrap();
        assert_eq!(
            s.insights_slack().unwrap().webhook_url_file,
            std::path::PathBuf::from("/run/secrets/alerts")
        );
        assert_eq!(s.insights.seal_check_interval, Duration::from_secs(5));
    }

    #[test]
    fn errors_name_the_json_path() {
        assert_eq!(
            spec(r#"{"digest":"fortnightly"}"#).unwrap_err(),
            "spec.json: insights.digest: \"fortnightly\" is not a digest schedule; write \"off\", \"daily\", \"weekly\", \"monthly\" or a duration such as \"12h\""
        );
        assert_eq!(
            spec(r#"{"digest":"10s","slack":{"webhookUrlFile":"/w"}}"#).unwrap_err(),
            "spec.json: insights.digest: \"10s\" is shorter than a minute; write \"daily\", \"weekly\" or e.g. \"12h\""
        );
        assert!(spec(r#"{"versionFeed":"ftp://x/y"}"#)
            .unwrap_err()
            .starts_with("spec.json: insights.versionFeed: \"ftp://x/y\" is not an http(s) URL"));
        assert_eq!(
            spec(r#"{"sealCheckInterval":"0s","slack":{"webhookUrlFile":"w"}}"#).unwrap_err(),
            "spec.json: 2 problems:\n  - insights.sealCheckInterval: must be at least one second, e.g. \"30s\"\n  - insights.slack.webhookUrlFile: \"w\" is not an absolute path; write e.g. \"/run/secrets/slack/webhook-url\" (the URL itself never goes in the spec)"
        );
        let e = spec(r#"{"digets":"weekly"}"#).unwrap_err();
        assert!(
            e.starts_with("spec.json: insights.digets: unknown field `digets`, expected one of"),
            "{e}"
        );
        let e = spec(r#"{"digest":7}"#).unwrap_err();
        assert!(
            e.starts_with("spec.json: insights.digest: invalid type: integer `7`"),
            "{e}"
        );
    }
}
