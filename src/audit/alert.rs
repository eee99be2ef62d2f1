//! One alert: what a rule found, ready for Slack, the outbox and `audit replay`.

use super::spec::Severity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub rule: String,
    pub severity: Severity,
    /// One line for a human: "root token created", "5 failed logins".
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The audit entry's time (RFC 3339), or the time we saw it.
    pub time: String,
    pub request_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub operation: String,
    pub path: String,
    /// Events this alert stands for: 1 for a first alert (the failure count for
    /// `login-failures`), the number of further events for a summary.
    pub count: u64,
    /// A follow-up for events coalesced within the rule's window.
    pub summary: bool,
    /// The caller: token display name, policies and (HMAC'd) accessor.
    pub display_name: String,
    pub policies: Vec<String>,
    pub accessor: String,
    pub remote_address: String,
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn alert(rule: &str) -> Alert {
        Alert {
            rule: rule.into(),
            severity: Severity::High,
            title: "t".into(),
            detail: None,
            time: "2026-01-01T00:00:00Z".into(),
            request_id: "r".into(),
            kind: "response".into(),
            operation: "update".into(),
            path: "sys/seal".into(),
            count: 1,
            summary: false,
            display_name: String::new(),
            policies: vec![],
            accessor: String::new(),
            remote_address: String::new(),
        }
    }
}
