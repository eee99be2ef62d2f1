//! What the built-in rules remember between entries: request ids already
//! counted as failures, recent failed logins per key, and the addresses root
//! tokens were used from. Bounded like everything the listener keeps.

use crate::audit::dedup::Dedup;
use std::collections::{HashMap, VecDeque};

pub(crate) struct RuleMemory {
    /// Request ids already counted as failures (request and response lines both carry the error).
    failed: Dedup,
    /// Failed logins per `path|role|remote`, oldest first (milliseconds).
    logins: HashMap<String, VecDeque<i64>>,
    /// Remote addresses root tokens were used from (`root-token-new-address`).
    root_addresses: Dedup,
}

impl RuleMemory {
    pub(crate) fn new() -> RuleMemory {
        RuleMemory {
            failed: Dedup::new(1 << 14),
            logins: HashMap::new(),
            root_addresses: Dedup::new(10_000),
        }
    }

    /// True the first time this request id is seen failing.
    pub(crate) fn first_failure(&mut self, id: &str) -> bool {
        id.is_empty() || self.failed.first("failure", id)
    }

    /// True the first time a root token is used from `remote`.
    pub(crate) fn first_root_address(&mut self, remote: &str) -> bool {
        self.root_addresses.first("root", remote)
    }

    /// Records a failed login and says how many fell within `window` ms.
    pub(crate) fn login_failure(&mut self, key: String, now: i64, window: i64) -> usize {
        if self.logins.len() >= 100_000 && !self.logins.contains_key(&key) {
            self.forget_logins_before(now - window);
        }
        let q = self.logins.entry(key).or_default();
        q.push_back(now);
        while q.front().is_some_and(|t| *t <= now - window) {
            q.pop_front();
        }
        while q.len() > 10_000 {
            q.pop_front();
        }
        q.len()
    }

    /// Drops the keys whose last failed login is at or before `cutoff` ms.
    pub(crate) fn forget_logins_before(&mut self, cutoff: i64) {
        self.logins
            .retain(|_, q| q.back().is_some_and(|t| *t > cutoff));
    }
}

#[cfg(test)]
mod tests;
