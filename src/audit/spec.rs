//! The `audit` section of the spec: where to listen, where Slack is, which rules
//! fire and how loudly. Raw serde types (unknown keys rejected) and their
//! validated form; every problem names its JSON path.

use crate::spec::interval::parse_duration;
use crate::spec::Problem;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::slack::spec::{RawSlack, SlackSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawAudit {
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

/// A user named or given by uid.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    Id(u32),
    Name(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawRule {
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

/// How bad an alert is; orders from `Info` to `Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(a) => write!(f, "tcp:{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl ListenAddr {
    pub fn parse(s: &str) -> Result<ListenAddr, String> {
        if let Some(rest) = s.strip_prefix("tcp:") {
            return rest
                .parse::<SocketAddr>()
                .map(ListenAddr::Tcp)
                .map_err(|_| format!("{s:?}: {rest:?} is not an IP address and port; write e.g. \"tcp:127.0.0.1:9090\""));
        }
        if let Some(rest) = s.strip_prefix("unix:") {
            let p = PathBuf::from(rest);
            if !p.is_absolute() || p.parent().is_none() {
                return Err(format!("{s:?}: a unix socket needs an absolute path, e.g. \"unix:/run/vaultkeeper/audit.sock\""));
            }
            return Ok(ListenAddr::Unix(p));
        }
        Err(format!(
            "{s:?} is not a listen address; write \"tcp:127.0.0.1:9090\" or \"unix:/run/vaultkeeper/audit.sock\""
        ))
    }
}

/// A custom rule's match: all given parts must match.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMatch {
    pub path: String,
    pub operations: Vec<String>,
    pub policy: Option<String>,
    pub error: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleConfig {
    pub id: String,
    pub enabled: bool,
    pub severity: Severity,
    /// Bursts within this window coalesce into one follow-up message with a count.
    pub window: Duration,
    /// `login-failures`: failures within `window` that raise the alert.
    pub count: u64,
    /// `token-long-ttl`: a TTL at or above this is long.
    pub ttl: Duration,
    pub custom: Option<CustomMatch>,
}

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

/// An address block: `10.0.0.5` or `10.0.0.0/24` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        };
        Some(Cidr { addr, prefix })
    }

    /// True when `ip` (IPv4-mapped IPv6 counts as IPv4) is inside the block.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
pub const DEFAULT_MEMORY_BUDGET: usize = 64 << 20;
pub const DEFAULT_SPILL_BYTES: u64 = 1 << 30;

/// The built-in rules: id, default severity, default window.
pub const BUILTIN: &[(&str, Severity, u64)] = &[
    ("root-token-created", Severity::Critical, 300),
    ("root-token-used", Severity::Critical, 3600),
    ("generate-root", Severity::Critical, 300),
    ("policy-changed", Severity::High, 300),
    ("auth-method-changed", Severity::High, 300),
    ("secrets-engine-changed", Severity::Medium, 300),
    ("audit-device-changed", Severity::Critical, 300),
    ("wrapping-token-invalid", Severity::High, 300),
    ("login-failures", Severity::High, 300),
    ("token-no-expiry", Severity::High, 300),
    ("token-long-ttl", Severity::Medium, 300),
    ("orphan-token", Severity::Medium, 300),
    ("seal", Severity::Critical, 300),
    ("audit-overload", Severity::Critical, 300),
    ("mount-tuned", Severity::Medium, 300),
    ("plugin-registered", Severity::Critical, 300),
    ("raw-storage-access", Severity::Critical, 300),
    ("lease-force-revoked", Severity::High, 300),
    ("identity-policy-attached", Severity::High, 300),
    ("namespace-changed", Severity::High, 300),
    ("root-token-new-address", Severity::Critical, 3600),
];

pub const DEFAULT_LOGIN_FAILURES: u64 = 5;
pub const DEFAULT_LONG_TTL: Duration = Duration::from_secs(168 * 3600);

impl AuditSpec {
    /// Default rules, no listener and no Slack: what `audit replay` uses without a spec.
    pub fn defaults() -> AuditSpec {
        let mut problems = Vec::new();
        let spec = resolve(
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
            },
            false,
            &mut problems,
        );
        debug_assert!(problems.is_empty());
        spec
    }

    pub fn rule(&self, id: &str) -> &RuleConfig {
        &self.rules[id]
    }
}

fn is_builtin(id: &str) -> bool {
    BUILTIN.iter().any(|(b, _, _)| *b == id)
}

/// Validates the raw section. `need_listen`: the section came from a spec (then
/// at least one listen address is required).
pub fn resolve(raw: RawAudit, need_listen: bool, problems: &mut Vec<Problem>) -> AuditSpec {
    let mut listen = Vec::new();
    for (i, l) in raw.listen.iter().enumerate() {
        match ListenAddr::parse(l) {
            Ok(a) => listen.push(a),
            Err(m) => problems.push(Problem::new(format!("audit.listen[{i}]"), m)),
        }
    }
    if need_listen && raw.listen.is_empty() {
        problems.push(Problem::new(
            "audit.listen",
            "give at least one address for OpenBao's socket audit device, e.g. [\"tcp:127.0.0.1:9090\"]",
        ));
    }
    let slack = raw
        .slack
        .map(|s| crate::slack::spec::resolve(s, "audit.slack", problems));

    let mut rules = BTreeMap::new();
    for (id, sev, window) in BUILTIN {
        rules.insert(
            id.to_string(),
            RuleConfig {
                id: id.to_string(),
                enabled: true,
                severity: *sev,
                window: Duration::from_secs(*window),
                count: DEFAULT_LOGIN_FAILURES,
                ttl: DEFAULT_LONG_TTL,
                custom: None,
            },
        );
    }
    for (id, r) in raw.rules {
        let at = |k: &str| format!("audit.rules.{id}.{k}");
        let builtin = is_builtin(&id);
        if !builtin {
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                problems.push(Problem::new(
                    format!("audit.rules.{id}"),
                    format!("{id:?} cannot name a rule: use letters, digits, '-', '_' and '.'"),
                ));
            }
            if r.path.is_none() {
                let known: Vec<&str> = BUILTIN.iter().map(|b| b.0).collect();
                problems.push(Problem::new(
                    format!("audit.rules.{id}"),
                    format!(
                        "{id:?} is not a built-in rule ({}); a custom rule needs at least \"path\" (a glob such as \"secret/data/prod/*\")",
                        known.join(", ")
                    ),
                ));
            }
        } else {
            for (key, present) in [
                ("path", r.path.is_some()),
                ("operations", r.operations.is_some()),
                ("policy", r.policy.is_some()),
                ("error", r.error.is_some()),
                ("description", r.description.is_some()),
            ] {
                if present {
                    problems.push(Problem::new(
                        at(key),
                        format!("{id} is a built-in rule and takes no {key:?}; give a custom rule its own id"),
                    ));
                }
            }
        }
        let default = rules.get(&id).cloned().unwrap_or(RuleConfig {
            id: id.clone(),
            enabled: true,
            severity: Severity::High,
            window: Duration::from_secs(300),
            count: 1,
            ttl: DEFAULT_LONG_TTL,
            custom: None,
        });
        let severity = match r.severity.as_deref() {
            None => default.severity,
            Some(s) => Severity::parse(s).unwrap_or_else(|| {
                problems.push(Problem::new(
                    at("severity"),
                    format!("{s:?} is not a severity; write \"critical\", \"high\", \"medium\", \"low\" or \"info\""),
                ));
                default.severity
            }),
        };
        let window = dur(problems, &at("window"), r.window.as_deref(), default.window);
        if window < Duration::from_secs(1) {
            problems.push(Problem::new(
                at("window"),
                "must be at least one second, e.g. \"5m\"",
            ));
        }
        let (mut count, mut ttl) = (default.count, default.ttl);
        if let Some(t) = &r.threshold {
            match id.as_str() {
                "login-failures" => match t.as_u64() {
                    Some(n) if n >= 1 => count = n,
                    _ => problems.push(Problem::new(
                        at("threshold"),
                        "must be a whole number of failed logins, at least 1, e.g. 5",
                    )),
                },
                "token-long-ttl" => match t.as_str().map(parse_duration) {
                    Some(Ok(d)) if !d.is_zero() => ttl = d,
                    Some(Err(m)) => problems.push(Problem::new(at("threshold"), m)),
                    _ => problems.push(Problem::new(
                        at("threshold"),
                        "must be a duration string such as \"168h\"",
                    )),
                },
                _ => problems.push(Problem::new(
                    at("threshold"),
                    format!("{id} has no threshold (only login-failures and token-long-ttl do)"),
                )),
            }
        }
        let custom = if builtin {
            None
        } else {
            let operations = r.operations.clone().unwrap_or_default();
            for (i, op) in operations.iter().enumerate() {
                if ![
                    "create",
                    "read",
                    "update",
                    "delete",
                    "list",
                    "patch",
                    "help",
                    "alias-lookahead",
                    "resolve-role",
                    "header",
                    "rollback",
                    "renew",
                    "revoke",
                ]
                .contains(&op.as_str())
                {
                    problems.push(Problem::new(
                        format!("audit.rules.{id}.operations[{i}]"),
                        format!("{op:?} is not a Vault operation; write e.g. \"read\", \"create\", \"update\", \"delete\", \"list\""),
                    ));
                }
            }
            r.path.clone().map(|path| CustomMatch {
                path: path.trim_start_matches('/').to_string(),
                operations,
                policy: r.policy.clone(),
                error: r.error.clone(),
                description: r.description.clone(),
            })
        };
        rules.insert(
            id.clone(),
            RuleConfig {
                id: id.clone(),
                enabled: r.enabled.unwrap_or(true),
                severity,
                window,
                count,
                ttl,
                custom,
            },
        );
    }
    let queue_bytes = match raw.queue_bytes {
        None => 16 << 20,
        Some(b) if (1 << 20..=1 << 32).contains(&b) => b as usize,
        Some(b) => {
            problems.push(Problem::new(
                "audit.queueBytes",
                format!("{b} is out of range; write a byte count between 1048576 (1 MiB) and 4294967296 (4 GiB)"),
            ));
            16 << 20
        }
    };
    let stats_interval = dur(
        problems,
        "audit.statsInterval",
        raw.stats_interval.as_deref(),
        Duration::from_secs(30),
    );
    if stats_interval < Duration::from_secs(1) {
        problems.push(Problem::new(
            "audit.statsInterval",
            "must be at least one second, e.g. \"30s\"",
        ));
    }
    let socket_group = raw.socket_group.filter(|g| !g.is_empty());
    if let Some(g) = &socket_group {
        if g.starts_with('-') || g.contains(|c: char| c == ':' || c == '/' || c.is_whitespace()) {
            problems.push(Problem::new(
                "audit.socketGroup",
                format!(
                    "{g:?} is not a group name; write e.g. \"openbao\" (the Vault server's group)"
                ),
            ));
        }
        if !listen.iter().any(|l| matches!(l, ListenAddr::Unix(_))) {
            problems.push(Problem::new(
                "audit.socketGroup",
                "applies to unix: sockets and audit.listen has none; add e.g. \"unix:/run/vaultkeeper/audit.sock\" or remove socketGroup",
            ));
        }
    }
    let peer_users: Vec<String> = raw
        .peer_users
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, u)| match u {
            UserRef::Id(n) => Some(n.to_string()),
            UserRef::Name(n) if !n.is_empty() && !n.starts_with('-') && !n.contains(|c: char| c == ':' || c == '/' || c.is_whitespace()) => Some(n),
            UserRef::Name(n) => {
                problems.push(Problem::new(
                    format!("audit.peerUsers[{i}]"),
                    format!("{n:?} is not a user name or uid; write e.g. \"openbao\" or 992 (the Vault server's user)"),
                ));
                None
            }
        })
        .collect();
    let mut allow_from = Vec::new();
    for (i, a) in raw.allow_from.unwrap_or_default().iter().enumerate() {
        match Cidr::parse(a) {
            Some(c) => allow_from.push(c),
            None => problems.push(Problem::new(
                format!("audit.allowFrom[{i}]"),
                format!("{a:?} is not an IP address or CIDR block; write e.g. \"10.0.0.5\" or \"10.0.0.0/24\""),
            )),
        }
    }
    for (i, l) in listen.iter().enumerate() {
        if let ListenAddr::Tcp(sa) = l {
            if !sa.ip().is_loopback() && allow_from.is_empty() {
                problems.push(Problem::new(
                    format!("audit.listen[{i}]"),
                    format!("{l} is not a loopback address: a remote listener needs audit.allowFrom (the Vault servers' addresses); for a local server use \"tcp:127.0.0.1:PORT\" or a unix: socket"),
                ));
            }
        }
    }
    let max_connections = match raw.max_connections {
        None => DEFAULT_MAX_CONNECTIONS,
        Some(n) if (1..=4096).contains(&n) => n as usize,
        Some(n) => {
            problems.push(Problem::new(
                "audit.maxConnections",
                format!("{n} is out of range; write a number between 1 and 4096 (default 64)"),
            ));
            DEFAULT_MAX_CONNECTIONS
        }
    };
    let idle_timeout = dur(
        problems,
        "audit.idleTimeout",
        raw.idle_timeout.as_deref(),
        DEFAULT_IDLE_TIMEOUT,
    );
    if idle_timeout < Duration::from_secs(1) {
        problems.push(Problem::new(
            "audit.idleTimeout",
            "must be at least one second, e.g. \"5m\"",
        ));
    }
    let memory_budget = match raw.memory_budget {
        None => DEFAULT_MEMORY_BUDGET.max(queue_bytes),
        Some(b) if (4 << 20..=1 << 34).contains(&b) && b as usize >= queue_bytes => b as usize,
        Some(b) => {
            problems.push(Problem::new(
                "audit.memoryBudget",
                format!("{b} is out of range; write a byte count between 4194304 (4 MiB) and 17179869184 (16 GiB), at least queueBytes ({queue_bytes})"),
            ));
            DEFAULT_MEMORY_BUDGET
        }
    };
    let spill_bytes = match raw.spill_bytes {
        None => DEFAULT_SPILL_BYTES,
        Some(b) if (1 << 20..=1 << 40).contains(&b) => b,
        Some(b) => {
            problems.push(Problem::new(
                "audit.spillBytes",
                format!("{b} is out of range; write a byte count between 1048576 (1 MiB) and 1099511627776 (1 TiB)"),
            ));
            DEFAULT_SPILL_BYTES
        }
    };
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

fn dur(problems: &mut Vec<Problem>, path: &str, v: Option<&str>, default: Duration) -> Duration {
    match v {
        None => default,
        Some(v) => parse_duration(v).unwrap_or_else(|m| {
            problems.push(Problem::new(path, m));
            default
        }),
    }
}

/// Parses just an `audit` section (as JSON text), for `audit replay --spec` on a
/// file that is a whole spec or only its `audit` object.
pub fn from_json(file: &str, text: &str) -> Result<AuditSpec, crate::spec::SpecError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| crate::spec::SpecError::Invalid {
            file: file.to_string(),
            path: "(top level)".into(),
            message: format!("not JSON: {e}"),
        })?;
    if value.get("vault").is_some() {
        let spec = crate::spec::Spec::from_json(file, text)?;
        return Ok(spec.audit.unwrap_or_else(AuditSpec::defaults));
    }
    let section = value.get("audit").cloned().unwrap_or(value);
    let raw: RawAudit =
        serde_path_to_error::deserialize(section).map_err(|e| crate::spec::SpecError::Invalid {
            file: file.to_string(),
            path: format!("audit.{}", e.path()),
            message: e.inner().to_string(),
        })?;
    let mut problems = Vec::new();
    let spec = resolve(raw, false, &mut problems);
    if problems.is_empty() {
        Ok(spec)
    } else {
        Err(crate::spec::error_from_problems(file, problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_err(audit: &str) -> String {
        let text = format!(r#"{{"vault":{{"address":"http://127.0.0.1:8200"}},"audit":{audit}}}"#);
        crate::spec::Spec::from_json("spec.json", &text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn socket_group_needs_a_unix_socket_and_a_plain_name() {
        let text = r#"{"vault":{"address":"http://127.0.0.1:8200"},"audit":{"listen":["unix:/run/vk/a.sock"],"socketGroup":"openbao"}}"#;
        let s = crate::spec::Spec::from_json("spec.json", text).unwrap();
        assert_eq!(s.audit.unwrap().socket_group.as_deref(), Some("openbao"));
        assert_eq!(
            spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"socketGroup":"openbao"}"#),
            "spec.json: audit.socketGroup: applies to unix: sockets and audit.listen has none; add e.g. \"unix:/run/vaultkeeper/audit.sock\" or remove socketGroup"
        );
        assert_eq!(
            spec_err(r#"{"listen":["unix:/run/vk/a.sock"],"socketGroup":"a b"}"#),
            "spec.json: audit.socketGroup: \"a b\" is not a group name; write e.g. \"openbao\" (the Vault server's group)"
        );
    }

    #[test]
    fn the_issue_example_parses() {
        let text = r#"{"vault":{"address":"http://127.0.0.1:8200"},"stateDir":"/var/lib/vk","audit":{
          "listen": ["tcp:127.0.0.1:9090", "unix:/run/vaultkeeper/audit.sock"],
          "slack": { "webhookUrlFile": "/run/secrets/slack/webhook-url" },
          "rules": { "root-token-used": { "severity": "critical" }, "login-failures": { "threshold": 5, "window": "5m" },
                     "prod-delete": { "path": "secret/data/prod/*", "operations": ["delete"], "severity": "high" } }
        }}"#;
        let s = crate::spec::Spec::from_json("spec.json", text).unwrap();
        let a = s.audit.unwrap();
        assert_eq!(
            a.listen,
            vec![
                ListenAddr::Tcp("127.0.0.1:9090".parse().unwrap()),
                ListenAddr::Unix("/run/vaultkeeper/audit.sock".into())
            ]
        );
        assert_eq!(
            a.slack.as_ref().unwrap().webhook_url_file,
            PathBuf::from("/run/secrets/slack/webhook-url")
        );
        assert_eq!(a.rule("login-failures").count, 5);
        assert_eq!(a.rule("login-failures").window, Duration::from_secs(300));
        assert_eq!(a.rule("root-token-used").window, Duration::from_secs(3600));
        assert_eq!(a.rule("token-long-ttl").ttl, DEFAULT_LONG_TTL);
        let c = a.rule("prod-delete").custom.clone().unwrap();
        assert_eq!(
            (c.path.as_str(), c.operations.clone()),
            ("secret/data/prod/*", vec!["delete".to_string()])
        );
        assert_eq!(a.rules.len(), BUILTIN.len() + 1);
        assert_eq!(a.queue_bytes, 16 << 20);
    }

    #[test]
    fn errors_name_the_json_path() {
        assert!(
            spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"bogus":1}"#)
                .contains("audit.bogus: unknown field `bogus`"),
            "{}",
            spec_err(r#"{"listen":[],"bogus":1}"#)
        );
        assert_eq!(
            spec_err(r#"{"listen":["udp:1.2.3.4:5"]}"#),
            "spec.json: audit.listen[0]: \"udp:1.2.3.4:5\" is not a listen address; write \"tcp:127.0.0.1:9090\" or \"unix:/run/vaultkeeper/audit.sock\""
        );
        assert!(spec_err(r#"{"listen":[]}"#).contains("audit.listen: give at least one address"));
        assert!(
            spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"seal":{"severity":"dire"}}}"#)
                .contains("audit.rules.seal.severity: \"dire\" is not a severity")
        );
        assert!(
            spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"seal":{"threshold":3}}}"#)
                .contains("audit.rules.seal.threshold: seal has no threshold")
        );
        assert!(spec_err(
            r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"login-failures":{"threshold":"5"}}}"#
        )
        .contains("audit.rules.login-failures.threshold: must be a whole number"));
        assert!(spec_err(
            r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"token-long-ttl":{"threshold":"a week"}}}"#
        )
        .contains("audit.rules.token-long-ttl.threshold: \"a week\" is not a duration"));
        assert!(spec_err(
            r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"mystery":{"severity":"low"}}}"#
        )
        .contains("audit.rules.mystery: \"mystery\" is not a built-in rule"));
        assert!(
            spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"seal":{"path":"sys/*"}}}"#)
                .contains("audit.rules.seal.path: seal is a built-in rule and takes no \"path\"")
        );
        assert!(spec_err(
            r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"x":{"path":"a/*","operations":["write"]}}}"#
        )
        .contains("audit.rules.x.operations[0]: \"write\" is not a Vault operation"));
        assert!(spec_err(
            r#"{"listen":["tcp:127.0.0.1:9"],"slack":{"webhookUrl":"https://hooks.slack.com/x"}}"#
        )
        .contains("audit.slack.webhookUrl: unknown field `webhookUrl`"));
        assert!(
            spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"slack":{"webhookUrlFile":"webhook"}}"#)
                .contains("audit.slack.webhookUrlFile: \"webhook\" is not an absolute path")
        );
    }

    #[test]
    fn a_bare_audit_section_or_nothing_gives_rules() {
        let a = from_json("x.json", r#"{"rules":{"seal":{"enabled":false}}}"#).unwrap();
        assert!(!a.rule("seal").enabled);
        assert!(a.rule("root-token-used").enabled);
        let d = AuditSpec::defaults();
        assert_eq!(d.rules.len(), BUILTIN.len());
        assert!(d.listen.is_empty());
    }
}
