//! The `audit` section exactly as JSON writes it (unknown keys rejected);
//! [`super::resolve`] validates it into [`super::AuditSpec`].

use crate::spec::slack::RawSlack;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawAudit {
    #[serde(default)]
    pub listen: Vec<String>,
    /// Group owning the `unix:` sockets (mode 0660), e.g. the Vault server's group.
    pub socket_group: Option<String>,
    pub slack: Option<RawSlack>,
    #[serde(default)]
    pub rules: BTreeMap<String, RawRule>,
    /// Bytes of audit lines allowed to wait for the rule engine (default 16 MiB).
    pub queue_bytes: Option<u64>,
    /// How often counters are written to `<stateDir>/audit/stats.json` (default 30s).
    pub stats_interval: Option<String>,
    /// Users (names or uids) whose connections are the Vault server's
    /// (default: root and the agent's own user).
    pub peer_users: Option<Vec<UserRef>>,
    /// Remote source addresses or CIDR blocks accepted on a non-loopback TCP listener.
    pub allow_from: Option<Vec<String>>,
    /// Connections open at once (default 64).
    pub max_connections: Option<u64>,
    /// Silence after a partial line before the connection is closed (default 5m).
    pub idle_timeout: Option<String>,
    /// Bytes of buffers across all connections (default 64 MiB).
    pub memory_budget: Option<u64>,
    /// Bytes of security-relevant lines spilled to disk when memory is full (default 1 GiB).
    pub spill_bytes: Option<u64>,
}

impl RawAudit {
    /// An empty section: every default, no listener, no Slack.
    pub(crate) fn empty() -> RawAudit {
        RawAudit {
            listen: Vec::new(),
            socket_group: None,
            slack: None,
            rules: BTreeMap::new(),
            queue_bytes: None,
            stats_interval: None,
            peer_users: None,
            allow_from: None,
            max_connections: None,
            idle_timeout: None,
            memory_budget: None,
            spill_bytes: None,
        }
    }
}

/// A user named or given by uid.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum UserRef {
    Id(u32),
    Name(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawRule {
    pub enabled: Option<bool>,
    pub severity: Option<String>,
    /// A count (`login-failures`) or a duration (`token-long-ttl`).
    pub threshold: Option<serde_json::Value>,
    pub window: Option<String>,
    /// Custom rules only: a glob over the request path (`*` matches anything, `?` one character).
    pub path: Option<String>,
    pub operations: Option<Vec<String>>,
    pub policy: Option<String>,
    pub error: Option<String>,
    pub description: Option<String>,
}
