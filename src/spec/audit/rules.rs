//! `audit.rules`: the built-in rules (with their defaults) and custom rules
//! (a path glob plus optional operations, policy and error).

use super::limits::at_least_one_second;
use super::raw::RawRule;
use super::severity::Severity;
use crate::spec::error::Problem;
use crate::spec::fields::duration;
use crate::spec::interval::parse_duration;
use std::collections::BTreeMap;
use std::time::Duration;

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

pub(crate) const DEFAULT_LOGIN_FAILURES: u64 = 5;
pub(crate) const DEFAULT_LONG_TTL: Duration = Duration::from_secs(168 * 3600);

/// The operations a custom rule may name (Vault's logical operations).
const OPERATIONS: &[&str] = &[
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
];

fn is_builtin(id: &str) -> bool {
    BUILTIN.iter().any(|(b, _, _)| *b == id)
}

/// Every built-in rule with its defaults.
fn builtin_defaults() -> BTreeMap<String, RuleConfig> {
    BUILTIN
        .iter()
        .map(|(id, sev, window)| {
            let rule = RuleConfig {
                id: id.to_string(),
                enabled: true,
                severity: *sev,
                window: Duration::from_secs(*window),
                count: DEFAULT_LOGIN_FAILURES,
                ttl: DEFAULT_LONG_TTL,
                custom: None,
            };
            (id.to_string(), rule)
        })
        .collect()
}

/// The defaults of a custom rule `id`.
fn custom_default(id: &str) -> RuleConfig {
    RuleConfig {
        id: id.to_string(),
        enabled: true,
        severity: Severity::High,
        window: Duration::from_secs(300),
        count: 1,
        ttl: DEFAULT_LONG_TTL,
        custom: None,
    }
}

/// Every built-in rule, overridden by `audit.rules`, and every custom rule.
pub(crate) fn rules(
    raw: BTreeMap<String, RawRule>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, RuleConfig> {
    let mut rules = builtin_defaults();
    for (id, r) in raw {
        let builtin = is_builtin(&id);
        if builtin {
            check_builtin_keys(&id, &r, problems);
        } else {
            check_custom_id(&id, &r, problems);
        }
        let default = rules
            .get(&id)
            .cloned()
            .unwrap_or_else(|| custom_default(&id));
        let rule = rule(&id, builtin, r, default, problems);
        rules.insert(id, rule);
    }
    rules
}

/// One rule from its raw form over its defaults.
fn rule(
    id: &str,
    builtin: bool,
    r: RawRule,
    default: RuleConfig,
    problems: &mut Vec<Problem>,
) -> RuleConfig {
    let at = |k: &str| format!("audit.rules.{id}.{k}");
    let severity = severity(
        &at("severity"),
        r.severity.as_deref(),
        default.severity,
        problems,
    );
    let window = duration(problems, &at("window"), r.window.as_deref(), default.window);
    at_least_one_second(problems, &at("window"), window, "5m");
    let (mut count, mut ttl) = (default.count, default.ttl);
    if let Some(t) = &r.threshold {
        threshold(id, t, &mut count, &mut ttl, problems);
    }
    let custom = if builtin {
        None
    } else {
        custom_match(id, &r, problems)
    };
    RuleConfig {
        id: id.to_string(),
        enabled: r.enabled.unwrap_or(true),
        severity,
        window,
        count,
        ttl,
        custom,
    }
}

/// A custom rule needs a plain id and a `path`.
fn check_custom_id(id: &str, r: &RawRule, problems: &mut Vec<Problem>) {
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
}

/// A built-in rule takes none of the custom rules' match keys.
fn check_builtin_keys(id: &str, r: &RawRule, problems: &mut Vec<Problem>) {
    for (key, present) in [
        ("path", r.path.is_some()),
        ("operations", r.operations.is_some()),
        ("policy", r.policy.is_some()),
        ("error", r.error.is_some()),
        ("description", r.description.is_some()),
    ] {
        if present {
            problems.push(Problem::new(
                format!("audit.rules.{id}.{key}"),
                format!(
                    "{id} is a built-in rule and takes no {key:?}; give a custom rule its own id"
                ),
            ));
        }
    }
}

fn severity(
    at: &str,
    raw: Option<&str>,
    default: Severity,
    problems: &mut Vec<Problem>,
) -> Severity {
    match raw {
        None => default,
        Some(s) => Severity::parse(s).unwrap_or_else(|| {
            problems.push(Problem::new(
                at,
                format!("{s:?} is not a severity; write \"critical\", \"high\", \"medium\", \"low\" or \"info\""),
            ));
            default
        }),
    }
}

/// `threshold`: a count for `login-failures`, a duration for `token-long-ttl`.
fn threshold(
    id: &str,
    t: &serde_json::Value,
    count: &mut u64,
    ttl: &mut Duration,
    problems: &mut Vec<Problem>,
) {
    let at = format!("audit.rules.{id}.threshold");
    match id {
        "login-failures" => match t.as_u64() {
            Some(n) if n >= 1 => *count = n,
            _ => problems.push(Problem::new(
                at,
                "must be a whole number of failed logins, at least 1, e.g. 5",
            )),
        },
        "token-long-ttl" => match t.as_str().map(parse_duration) {
            Some(Ok(d)) if !d.is_zero() => *ttl = d,
            Some(Err(m)) => problems.push(Problem::new(at, m)),
            _ => problems.push(Problem::new(
                at,
                "must be a duration string such as \"168h\"",
            )),
        },
        _ => problems.push(Problem::new(
            at,
            format!("{id} has no threshold (only login-failures and token-long-ttl do)"),
        )),
    }
}

/// A custom rule's match; `None` without a `path` (already reported).
fn custom_match(id: &str, r: &RawRule, problems: &mut Vec<Problem>) -> Option<CustomMatch> {
    let operations = r.operations.clone().unwrap_or_default();
    for (i, op) in operations.iter().enumerate() {
        if !OPERATIONS.contains(&op.as_str()) {
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
}
