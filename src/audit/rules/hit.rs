//! What a rule found in one entry, before the engine turns it into an alert.

use crate::spec::audit::severity::Severity;

/// What a rule found in one entry.
pub(crate) struct Hit {
    /// Coalescing key within the rule ("" = one key for the whole rule).
    pub key: String,
    pub title: String,
    pub detail: Option<String>,
    pub count: u64,
    /// Overrides the configured severity (a policy granting sudo).
    pub severity: Option<Severity>,
}

impl Hit {
    /// One event, one key for the whole rule, the configured severity.
    pub(crate) fn new(title: impl Into<String>, detail: Option<String>) -> Hit {
        Hit {
            key: String::new(),
            title: title.into(),
            detail,
            count: 1,
            severity: None,
        }
    }

    /// Coalesces under `key` within the rule.
    pub(crate) fn keyed(mut self, key: String) -> Hit {
        self.key = key;
        self
    }

    /// Critical (whatever the rule says) when `critical`.
    pub(crate) fn critical_if(mut self, critical: bool) -> Hit {
        self.severity = critical.then_some(Severity::Critical);
        self
    }
}

/// `error: <message>` when the entry failed, the usual detail of a refused request.
pub(crate) fn error_detail(error: Option<&str>) -> Option<String> {
    error.map(|x| format!("error: {x}"))
}
