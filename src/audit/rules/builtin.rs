//! The built-in rules. Each looks at one entry and says whether (and why) it
//! fires; coalescing is the engine's business. Paths are OpenBao's and Vault's
//! (`sys/policy/x` and `sys/policies/acl/x`, `sys/generate-root*`, ...).

use super::{Engine, Hit};
use crate::audit::entry::{is_hmac, Entry};
use crate::spec::audit::severity::Severity;
use serde_json::Value;

pub(super) fn evaluate(
    engine: &mut Engine,
    e: &Entry<'_>,
    now: i64,
    hits: &mut Vec<(String, Hit)>,
) {
    let normalized = normalize(e.path());
    let path = normalized.as_str();
    // Every spelling of a system path: `sys/x`, `/sys/x/`, `sys//x`, and
    // `<namespace>/sys/x` (a namespace given in the URL path).
    let sys = sys_path(e, path);
    let op = e.operation();
    if path == "sys/audit/test" && e.auth.as_ref().is_none_or(|a| a.accessor.is_none()) {
        return; // the device test OpenBao sends when it enables the device
    }
    let mut hit = |id: &str, key: String, title: String, detail: Option<String>| {
        hits.push((
            id.to_string(),
            Hit {
                key,
                title,
                detail,
                count: 1,
                severity: None,
            },
        ));
    };
    let ok_response = e.is_response() && e.error().is_none();
    let writes = matches!(op, "create" | "update" | "delete" | "patch");

    // root-token-used: every request a root token makes, per accessor.
    if e.is_request() && e.caller_is_root() {
        let a = e.auth.as_ref();
        let key = a
            .and_then(|a| a.accessor.as_deref().or(a.display_name.as_deref()))
            .unwrap_or("")
            .to_string();
        hit(
            "root-token-used",
            key,
            format!("root token used: {op} {path}"),
            None,
        );
        let remote = e.remote_address();
        if !remote.is_empty() && engine.root_addresses.first("root", remote) {
            hit(
                "root-token-new-address",
                String::new(),
                format!("root token used from a new address: {remote}"),
                Some(format!(
                    "first request with a root token from {remote} since the agent started: {op} {path}"
                )),
            );
        }
    }

    // The token a response hands out.
    if ok_response {
        if let Some(t) = e.new_token() {
            let is_root = t.policies.iter().any(|p| p == "root");
            let name = t.display_name.as_deref().unwrap_or("");
            let pols = t.policies.join(", ");
            if is_root {
                hit(
                    "root-token-created",
                    String::new(),
                    "root token created".into(),
                    Some(format!("new token {name:?} with policies [{pols}]")),
                );
            } else {
                let ttl = t.token_ttl.unwrap_or(0);
                if ttl <= 0 {
                    hit(
                        "token-no-expiry",
                        String::new(),
                        "token created without expiry".into(),
                        Some(format!(
                            "new token {name:?} with policies [{pols}] has no TTL"
                        )),
                    );
                } else if periodic(e) {
                    hit(
                        "token-no-expiry",
                        String::new(),
                        "periodic token created (renewable forever)".into(),
                        Some(format!(
                            "new token {name:?} with policies [{pols}], period {}",
                            human(ttl)
                        )),
                    );
                } else if ttl as u64 >= engine.rule("token-long-ttl").ttl.as_secs() {
                    hit(
                        "token-long-ttl",
                        String::new(),
                        format!("token created with a TTL of {}", human(ttl)),
                        Some(format!(
                            "new token {name:?} with policies [{pols}]; threshold {}",
                            human(engine.rule("token-long-ttl").ttl.as_secs() as i64)
                        )),
                    );
                }
                if orphan(e) {
                    hit(
                        "orphan-token",
                        String::new(),
                        "orphan token created".into(),
                        Some(format!(
                            "new token {name:?} with policies [{pols}] has no parent"
                        )),
                    );
                }
            }
        }
    }

    // generate-root (and the recovery-token variant): started or completed.
    let gen = sys.and_then(|p| {
        p.strip_prefix("generate-root")
            .or_else(|| p.strip_prefix("generate-recovery-token"))
    });
    if let (true, Some(rest)) = (ok_response, gen) {
        if rest.ends_with("attempt") && matches!(op, "update" | "create") {
            hit(
                "generate-root",
                String::new(),
                "root token generation started".into(),
                None,
            );
        } else if rest.ends_with("update")
            && e.response_field("complete") == Some(Value::Bool(true))
        {
            hit(
                "generate-root",
                String::new(),
                "root token generation COMPLETED: a new root token exists".into(),
                Some("the last unseal key share was entered; whoever holds the OTP can decode the root token".into()),
            );
        }
    }

    // policy-changed
    if ok_response && writes {
        if let Some(name) = sys.and_then(|p| {
            p.strip_prefix("policies/acl/")
                .or_else(|| p.strip_prefix("policy/"))
        }) {
            let verb = if op == "delete" { "deleted" } else { "written" };
            let sudo = op != "delete" && grants_sudo(e);
            hits.push((
                "policy-changed".into(),
                Hit {
                    key: String::new(),
                    title: format!(
                        "policy {name} {verb}{}",
                        if sudo { " (grants sudo)" } else { "" }
                    ),
                    detail: match sudo {
                        true => Some("the policy grants the sudo capability".into()),
                        false => None,
                    },
                    count: 1,
                    severity: sudo.then_some(Severity::Critical),
                },
            ));
        }
    }
    // auth-method-changed, secrets-engine-changed, mount-tuned
    if let (true, Some(sp)) = (ok_response && writes, sys) {
        let mount = sp
            .strip_prefix("mounts/auth/")
            .map(|m| ("auth-method-changed", "auth method", m))
            .or_else(|| {
                sp.strip_prefix("auth/")
                    .map(|m| ("auth-method-changed", "auth method", m))
            })
            .or_else(|| {
                sp.strip_prefix("mounts/")
                    .map(|m| ("secrets-engine-changed", "secrets engine", m))
            });
        if let Some((rule, what, m)) = mount {
            if let Some(m) = m.strip_suffix("/tune") {
                let dangerous: Vec<&str> = DANGEROUS_TUNES
                    .iter()
                    .copied()
                    .filter(|k| e.request_field(k).is_some())
                    .collect();
                hits.push((
                    "mount-tuned".into(),
                    Hit {
                        key: String::new(),
                        title: format!(
                            "{what} {m}/ tuned{}",
                            if dangerous.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", dangerous.join(", "))
                            }
                        ),
                        detail: (!dangerous.is_empty()).then(|| tune_detail(&dangerous)),
                        count: 1,
                        severity: (!dangerous.is_empty()).then_some(Severity::Critical),
                    },
                ));
            } else {
                let verb = if op == "delete" {
                    "disabled"
                } else {
                    "enabled"
                };
                let dangerous: Vec<&str> = match e.request_field("config") {
                    Some(Value::Object(c)) => DANGEROUS_TUNES
                        .iter()
                        .copied()
                        .filter(|k| c.contains_key(*k))
                        .collect(),
                    _ => Vec::new(),
                };
                hits.push((
                    rule.into(),
                    Hit {
                        key: String::new(),
                        title: format!(
                            "{what} {m}/ {verb}{}",
                            if dangerous.is_empty() {
                                String::new()
                            } else {
                                format!(" with {}", dangerous.join(", "))
                            }
                        ),
                        detail: (!dangerous.is_empty()).then(|| tune_detail(&dangerous)),
                        count: 1,
                        severity: (!dangerous.is_empty()).then_some(Severity::Critical),
                    },
                ));
            }
        } else if sp == "remount" || sp.starts_with("remount/") {
            hits.push((
                "secrets-engine-changed".into(),
                Hit {
                    key: String::new(),
                    title: "secrets engine moved".into(),
                    detail: None,
                    count: 1,
                    severity: None,
                },
            ));
        }
    }
    let mut hit = |id: &str, key: String, title: String, detail: Option<String>| {
        hits.push((
            id.to_string(),
            Hit {
                key,
                title,
                detail,
                count: 1,
                severity: None,
            },
        ));
    };

    // plugin-registered: a binary registered in the catalog runs inside Vault.
    if let Some(name) = sys.and_then(|p| p.strip_prefix("plugins/catalog/")) {
        if e.is_response() && writes {
            let verb = if op == "delete" {
                "removed from"
            } else {
                "registered in"
            };
            hit(
                "plugin-registered",
                String::new(),
                match e.error() {
                    None => format!("plugin {name} {verb} the catalog"),
                    Some(_) => format!("attempt to change plugin {name} in the catalog refused"),
                },
                e.error().map(|x| format!("error: {x}")),
            );
        }
    }

    // raw-storage-access: sys/raw reads and writes storage below every check.
    if let Some(rest) = sys.and_then(|p| {
        p.strip_prefix("raw")
            .filter(|r| r.is_empty() || r.starts_with('/'))
    }) {
        if e.is_response() {
            let what = rest.trim_start_matches('/');
            hit(
                "raw-storage-access",
                String::new(),
                match e.error() {
                    None => format!(
                        "raw storage {op}: {}",
                        if what.is_empty() { "(root)" } else { what }
                    ),
                    Some(_) => format!(
                        "raw storage {op} refused: {}",
                        if what.is_empty() { "(root)" } else { what }
                    ),
                },
                e.error().map(|x| format!("error: {x}")),
            );
        }
    }

    // lease-force-revoked: revoke-force skips the backend's own revocation
    // (credentials may live on); revoke-prefix revokes everything under a path.
    if ok_response && writes {
        let forced = sys.and_then(|p| {
            p.strip_prefix("leases/")
                .unwrap_or(p)
                .strip_prefix("revoke-force/")
                .map(|x| ("revoke-force", x))
                .or_else(|| {
                    p.strip_prefix("leases/")
                        .unwrap_or(p)
                        .strip_prefix("revoke-prefix/")
                        .map(|x| ("revoke-prefix", x))
                })
        });
        if let Some((how, prefix)) = forced {
            hit(
                "lease-force-revoked",
                String::new(),
                format!("leases revoked with {how}: {prefix}"),
                None,
            );
        }
    }

    // identity-policy-attached: an entity or group given policies.
    if ok_response && matches!(op, "create" | "update") && identity_with_policies(e, path) {
        let name = path.trim_start_matches("identity/");
        hit(
            "identity-policy-attached",
            String::new(),
            format!("policies attached to identity {name}"),
            Some(
                "an entity or group written with policies: every token of its members gets them"
                    .into(),
            ),
        );
    }

    // namespace-changed
    if let Some(ns) = sys.and_then(|p| p.strip_prefix("namespaces/")) {
        if ok_response && writes && !ns.is_empty() && !ns.starts_with("api-lock") {
            let verb = if op == "delete" {
                "deleted"
            } else {
                "created or changed"
            };
            hit(
                "namespace-changed",
                String::new(),
                format!("namespace {ns} {verb}"),
                None,
            );
        }
    }

    // audit-device-changed: also failed attempts (someone tried to blind the audit log).
    if e.is_response()
        && writes
        && sys.is_some_and(|p| p.starts_with("audit/") || p.starts_with("config/auditing/"))
    {
        let what = sys.unwrap_or(path);
        let verb = if op == "delete" { "disable" } else { "change" };
        hit(
            "audit-device-changed",
            String::new(),
            match e.error() {
                None => format!("audit configuration changed: {op} {what}"),
                Some(_) => format!("attempt to {verb} audit configuration refused: {what}"),
            },
            e.error().map(|x| format!("error: {x}")),
        );
    }

    // wrapping-token-invalid: a used or bogus wrapping token (possible theft).
    if sys.is_some_and(|p| p.starts_with("wrapping/unwrap")) {
        if let Some(err) = e.error() {
            if engine.first_failure(e.request_id()) {
                let mut hit = |id: &str, key: String, title: String, detail: Option<String>| {
                    hits.push((
                        id.to_string(),
                        Hit {
                            key,
                            title,
                            detail,
                            count: 1,
                            severity: None,
                        },
                    ));
                };
                hit(
                    "wrapping-token-invalid",
                    String::new(),
                    "unwrap of an invalid or already-used wrapping token".into(),
                    Some(format!("error: {err}; if this was a bootstrap token, it may have been stolen and used by someone else")),
                );
            }
        }
    }

    // login-failures and lockouts
    if is_login(path) {
        if let Some(err) = e.error() {
            if engine.first_failure(e.request_id()) {
                let role = e
                    .request_field("role_id")
                    .or_else(|| e.request_field("role"))
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let remote = e.remote_address();
                if err.contains("locked") {
                    hits.push((
                        "login-failures".into(),
                        Hit {
                            key: format!("lockout|{path}|{remote}"),
                            title: format!("login locked out at {path}"),
                            detail: Some(format!("error: {err}")),
                            count: 1,
                            severity: None,
                        },
                    ));
                } else {
                    let key = format!("{path}|{role}|{remote}");
                    let n = engine.login_failure(key.clone(), now);
                    let threshold = engine.rule("login-failures").count as usize;
                    if n >= threshold {
                        let window =
                            humantime::format_duration(engine.rule("login-failures").window);
                        hits.push((
                            "login-failures".into(),
                            Hit {
                                key,
                                title: format!(
                                    "{n} failed logins at {path} from {remote} within {window}"
                                ),
                                detail: Some(format!(
                                    "last error: {err}{}",
                                    if role.is_empty() {
                                        String::new()
                                    } else {
                                        format!("; role {role}")
                                    }
                                )),
                                count: n as u64,
                                severity: None,
                            },
                        ));
                    }
                }
            }
        }
    }

    // seal, step-down: often only a request line.
    if e.is_request() && matches!(sys, Some("seal" | "step-down")) {
        let what = if sys == Some("seal") {
            "seal"
        } else {
            "step-down"
        };
        hits.push((
            "seal".into(),
            Hit {
                key: String::new(),
                title: format!("{what} requested"),
                detail: e.error().map(|x| format!("error: {x}")),
                count: 1,
                severity: None,
            },
        ));
    }
}

/// Tune keys that weaken the audit log or expose a mount.
const DANGEROUS_TUNES: &[&str] = &[
    "audit_non_hmac_request_keys",
    "audit_non_hmac_response_keys",
    "listing_visibility",
];

fn tune_detail(keys: &[&str]) -> String {
    let mut d = Vec::new();
    if keys.iter().any(|k| k.starts_with("audit_non_hmac")) {
        d.push("values of these keys now appear IN CLEAR in every audit log");
    }
    if keys.contains(&"listing_visibility") {
        d.push("listing_visibility changes who sees the mount listed");
    }
    d.join("; ")
}

/// `/sys//policy/x/` → `sys/policy/x`.
fn normalize(path: &str) -> String {
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
fn sys_path<'p>(e: &Entry<'_>, path: &'p str) -> Option<&'p str> {
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

fn identity_with_policies(e: &Entry<'_>, path: &str) -> bool {
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

fn is_login(path: &str) -> bool {
    path.starts_with("auth/") && path.split('/').skip(2).any(|seg| seg == "login")
}

fn orphan(e: &Entry<'_>) -> bool {
    let path = e.path();
    path == "auth/token/create-orphan"
        || (path.starts_with("auth/token/create")
            && e.request_field("no_parent") == Some(Value::Bool(true)))
}

/// A periodic token. OpenBao HMACs the `period` a client sends, so: a plain
/// number or duration, or (what the CLI sends) a `period` whose HMAC differs
/// from those of the unset `ttl` and `explicit_max_ttl`.
fn periodic(e: &Entry<'_>) -> bool {
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
fn grants_sudo(e: &Entry<'_>) -> bool {
    let body = e
        .request_field("policy")
        .or_else(|| e.request_field("rules"));
    match body {
        Some(Value::String(s)) if !is_hmac(&s) => s.contains("\"sudo\"") || s.contains("'sudo'"),
        _ => false,
    }
}

fn human(secs: i64) -> String {
    match secs {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{}s", s.max(0)),
    }
}
