//! The `audit` section of the spec: where to listen, where Slack is, which rules
//! fire and how loudly. Raw serde types (unknown keys rejected, [`raw`]) and
//! their validated form; every problem names its JSON path.
//!
//! - [`address`]: `listen` and `allowFrom`; [`access`]: `socketGroup`, `peerUsers`;
//! - [`rules`]: built-in and custom rules; [`severity`]: how bad an alert is;
//! - [`limits`]: queue, connections, memory, spill and timing bounds.

pub mod access;
pub mod address;
pub mod limits;
pub mod raw;
pub mod rules;
pub mod severity;

pub use super::slack::{RawSlack, SlackSpec};
pub use address::{Cidr, ListenAddr};
pub use limits::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MEMORY_BUDGET, DEFAULT_SPILL_BYTES,
};
pub use raw::{RawAudit, RawRule, UserRef};
pub use rules::{CustomMatch, RuleConfig, BUILTIN, DEFAULT_LOGIN_FAILURES, DEFAULT_LONG_TTL};
pub use severity::Severity;

use super::error::Problem;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditSpec {
    pub listen: Vec<ListenAddr>,
    /// Group of the `unix:` sockets; `None` = the agent's own group.
    pub socket_group: Option<String>,
    pub slack: Option<SlackSpec>,
    /// Every built-in rule (with defaults filled in) and every custom rule, by id.
    pub rules: BTreeMap<String, RuleConfig>,
    pub queue_bytes: usize,
    pub stats_interval: Duration,
    /// The Vault server's users (names or numeric uids), resolved when binding;
    /// empty = root and the agent's own user.
    pub peer_users: Vec<String>,
    /// Remote peers accepted on non-loopback TCP listeners.
    pub allow_from: Vec<Cidr>,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    pub memory_budget: usize,
    pub spill_bytes: u64,
}

impl AuditSpec {
    /// Default rules, no listener and no Slack: what `audit replay` uses without a spec.
    pub fn defaults() -> AuditSpec {
        let mut problems = Vec::new();
        let spec = resolve(RawAudit::empty(), false, &mut problems);
        debug_assert!(problems.is_empty());
        spec
    }

    pub fn rule(&self, id: &str) -> &RuleConfig {
        &self.rules[id]
    }
}

/// Validates the raw section. `need_listen`: the section came from a spec (then
/// at least one listen address is required).
pub fn resolve(raw: RawAudit, need_listen: bool, problems: &mut Vec<Problem>) -> AuditSpec {
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
