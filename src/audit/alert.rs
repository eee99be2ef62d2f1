//! One alert: what a rule found, ready for Slack, the outbox and `audit replay`.

use crate::spec::audit::severity::Severity;
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
    /// A summary: every event it stands for (up to a cap), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventRef>,
    /// A summary: events beyond those listed in `events`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One event inside a summary: enough to find it in the file audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    pub time: String,
    pub request_id: String,
    pub operation: String,
    pub path: String,
    /// The caller's display name.
    pub actor: String,
    pub remote_address: String,
}

impl Alert {
    pub fn event_ref(&self) -> EventRef {
        EventRef {
            time: self.time.clone(),
            request_id: self.request_id.clone(),
            operation: self.operation.clone(),
            path: self.path.clone(),
            actor: self.display_name.clone(),
            remote_address: self.remote_address.clone(),
        }
    }

    /// Replaces anything that looks like a token or a secret path segment in
    /// every text field (see [`super::redact`]).
    pub fn redact(&mut self) {
        use super::redact::redact_in_place as r;
        r(&mut self.title);
        if let Some(d) = &mut self.detail {
            r(d);
        }
        r(&mut self.path);
        r(&mut self.display_name);
        r(&mut self.request_id);
        r(&mut self.remote_address);
        r(&mut self.operation);
        for p in &mut self.policies {
            r(p);
        }
        for e in &mut self.events {
            r(&mut e.path);
            r(&mut e.actor);
            r(&mut e.request_id);
        }
    }
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
            events: Vec::new(),
            unlisted: 0,
        }
    }
}
