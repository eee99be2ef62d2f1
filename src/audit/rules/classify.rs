//! What an entry is, as the built-in rules ask it: a system path in any
//! spelling, a login, an orphan or periodic token, a policy granting sudo, an
//! identity given policies. Pure functions of the entry.

use crate::audit::entry::{is_hmac, Entry};
use serde_json::Value;

/// `/sys//policy/x/` → `sys/policy/x`.
pub(crate) fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(seg);
    }
    out
}

/// The part after `sys/` of a system path: `sys/x` itself, or `<ns>/sys/x`
/// when OpenBao routed it to the system backend (`mount_type` "system") with
/// the namespace in the URL path.
pub(crate) fn sys_path<'p>(e: &Entry<'_>, path: &'p str) -> Option<&'p str> {
    if let Some(rest) = path.strip_prefix("sys/") {
        return Some(rest);
    }
    if path == "sys" {
        return Some("");
    }
    let system = e
        .request
        .as_ref()
        .and_then(|r| r.mount_type.as_deref())
        .is_some_and(|t| t == "system" || t == "sys");
    if system {
        if let Some(i) = path.find("/sys/") {
            return Some(&path[i + 5..]);
        }
    }
    None
}

pub(crate) fn identity_with_policies(e: &Entry<'_>, path: &str) -> bool {
    let p = path.strip_prefix("identity/");
    let target = p.is_some_and(|p| {
        ["entity", "group"].iter().any(|k| {
            p == *k || p.starts_with(&format!("{k}/id/")) || p.starts_with(&format!("{k}/name/"))
        })
    });
    target
        && match e.request_field("policies") {
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::String(s)) => !s.is_empty(),
            _ => false,
        }
}

pub(crate) fn is_login(path: &str) -> bool {
    path.starts_with("auth/") && path.split('/').skip(2).any(|seg| seg == "login")
}

pub(crate) fn orphan(e: &Entry<'_>) -> bool {
    let path = e.path();
    path == "auth/token/create-orphan"
        || (path.starts_with("auth/token/create")
            && e.request_field("no_parent") == Some(Value::Bool(true)))
}

/// A periodic token. OpenBao HMACs the `period` a client sends, so: a plain
/// number or duration, or (what the CLI sends) a `period` whose HMAC differs
/// from those of the unset `ttl` and `explicit_max_ttl`.
pub(crate) fn periodic(e: &Entry<'_>) -> bool {
    if !e.path().starts_with("auth/token/create") {
        return false;
    }
    match e.request_field("period") {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n > 0.0),
        Some(Value::String(s)) if !is_hmac(&s) => {
            !s.is_empty()
                && s != "0"
                && crate::spec::interval::parse_duration(&s).is_ok_and(|d| !d.is_zero())
        }
        Some(Value::String(p)) => {
            let ttl = e.request_field("ttl");
            let max = e.request_field("explicit_max_ttl");
            matches!((&ttl, &max), (Some(Value::String(t)), Some(Value::String(m))) if t == m && *t != p)
        }
        _ => false,
    }
}

/// The policy text, when the audit device logs it readable (`log_raw`), grants `sudo`.
pub(crate) fn grants_sudo(e: &Entry<'_>) -> bool {
    let body = e
        .request_field("policy")
        .or_else(|| e.request_field("rules"));
    match body {
        Some(Value::String(s)) if !is_hmac(&s) => s.contains("\"sudo\"") || s.contains("'sudo'"),
        _ => false,
    }
}

/// Tune keys that weaken the audit log or expose a mount.
pub(crate) const DANGEROUS_TUNES: &[&str] = &[
    "audit_non_hmac_request_keys",
    "audit_non_hmac_response_keys",
    "listing_visibility",
];

/// What the dangerous tune keys given do.
pub(crate) fn tune_detail(keys: &[&str]) -> String {
    let mut d = Vec::new();
    if keys.iter().any(|k| k.starts_with("audit_non_hmac")) {
        d.push("values of these keys now appear IN CLEAR in every audit log");
    }
    if keys.contains(&"listing_visibility") {
        d.push("listing_visibility changes who sees the mount listed");
    }
    d.join("; ")
}
