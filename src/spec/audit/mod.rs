//! The `audit` section of the spec: where to listen, where Slack is, which rules
//! fire and how loudly. Raw serde types (unknown keys rejected, [`raw`]) and
//! their validated form; every problem names its JSON path.
//!
//! - [`address`]: `listen` and `allowFrom`; [`access`]: `socketGroup`, `peerUsers`;
//! - [`rules`]: built-in and custom rules; [`severity`]: how bad an alert is;
//! - [`limits`]: queue, connections, memory, spill and timing bounds.

pub(crate) mod access;
pub(crate) mod address;
pub(crate) mod limits;
pub(crate) mod raw;
pub(crate) mod rules;
pub(crate) mod severity;

pub(crate) use super::slack::SlackSpec;
pub(crate) use address::{Cidr, ListenAddr};
pub(crate) use raw::RawAudit;
pub(crate) use rules::RuleConfig;
pub use rules::BUILTIN;
#[cfg(test)]
pub(crate) use rules::DEFAULT_LONG_TTL;
#[cfg(test)]
pub(crate) use severity::Severity;

use super::error::Problem;
use std::collections::BTreeMap;
use std::time::Duration;

/// The `audit` section, resolved: listeners, Slack, rules and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditSpec {
    pub(crate) listen: Vec<ListenAddr>,
    /// Group of the `unix:` sockets; `None` = the agent's own group.
    pub(crate) socket_group: Option<String>,
    pub(crate) slack: Option<SlackSpec>,
    /// Every built-in rule (with defaults filled in) and every custom rule, by id.
    pub(crate) rules: BTreeMap<String, RuleConfig>,
    pub(crate) queue_bytes: usize,
    pub(crate) stats_interval: Duration,
    /// The Vault server's users (names or numeric uids), resolved when binding;
    /// empty = root and the agent's own user.
    pub(crate) peer_users: Vec<String>,
    /// Remote peers accepted on non-loopback TCP listeners.
    pub(crate) allow_from: Vec<Cidr>,
    pub(crate) max_connections: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) memory_budget: usize,
    pub(crate) spill_bytes: u64,
}

impl AuditSpec {
    /// Default rules, no listener and no Slack: what `audit replay` uses without a spec.
    pub fn defaults() -> AuditSpec {
        let mut problems = Vec::new();
        let spec = resolve(RawAudit::empty(), false, &mut problems);
        debug_assert!(problems.is_empty());
        spec
    }

    /// The rule `id` (every built-in rule is present).
    pub fn rule(&self, id: &str) -> &RuleConfig {
        &self.rules[id]
    }
}

/// Validates the raw section. `need_listen`: the section came from a spec (then
/// at least one listen address is required).
pub(crate) fn resolve(raw: RawAudit, need_listen: bool, problems: &mut Vec<Problem>) -> AuditSpec {
    let listen = address::listen(&raw.listen, need_listen, problems);
    let slack = raw
        .slack
        .map(|s| super::slack::resolve(s, "audit.slack", problems));
    let rules = rules::rules(raw.rules, problems);
    let queue_bytes = limits::queue_bytes(problems, raw.queue_bytes);
    let stats_interval = limits::stats_interval(problems, raw.stats_interval.as_deref());
    let socket_group = access::socket_group(raw.socket_group, &listen, problems);
    let peer_users = access::peer_users(raw.peer_users, problems);
    let allow_from = address::allow_from(raw.allow_from, problems);
    address::check_remote_listeners(&listen, &allow_from, problems);
    let max_connections = limits::max_connections(problems, raw.max_connections);
    let idle_timeout = limits::idle_timeout(problems, raw.idle_timeout.as_deref());
    let memory_budget =
        limits::memory_budget(problems, raw.memory_budget, queue_bytes, max_connections);
    let spill_bytes = limits::spill_bytes(problems, raw.spill_bytes);
    AuditSpec {
        listen,
        socket_group,
        slack,
        rules,
        queue_bytes,
        stats_interval,
        peer_users,
        allow_from,
        max_connections,
        idle_timeout,
        memory_budget,
        spill_bytes,
    }
}

#[cfg(test)]
mod tests;
