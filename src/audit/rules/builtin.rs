//! The built-in rules. Each looks at one entry and says whether (and why) it
//! fires; coalescing is the engine's business. Paths are OpenBao's and Vault's
//! (`sys/policy/x` and `sys/policies/acl/x`, `sys/generate-root*`, ...).

use super::{Engine, Hit};
use crate::audit::entry::{is_hmac, Entry};
use serde_json::Value;

pub(super) fn evaluate(
    engine: &mut Engine,
    e: &Entry<'_>,
    now: i64,
    hits: &mut Vec<(String, Hit)>,
) {
    let path = e.path();
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

    // generate-root: started or completed.
    if ok_response && path.starts_with("sys/generate-root") {
        if path.ends_with("/attempt") && matches!(op, "update" | "create") {
            hit(
                "generate-root",
                String::new(),
                "root token generation started".into(),
                None,
            );
        } else if path.ends_with("/update")
            && e.response_field("complete") == Some(Value::Bool(true))
        {
            hit(
                "generate-root",
                String::new(),
                "root token generation completed".into(),
                None,
            );
        }
    }

    // policy-changed
    if ok_response && writes {
        if let Some(name) = path
            .strip_prefix("sys/policies/acl/")
            .or_else(|| path.strip_prefix("sys/policy/"))
        {
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
                    severity: sudo.then_some(crate::audit::spec::Severity::Critical),
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

    // auth-method-changed, secrets-engine-changed
    if ok_response && writes {
        // (rule, what) for a mount path: enabled/disabled, or tuned.
        let mount = |rule: &str, what: &str, m: &str| -> (String, String) {
            let verb = match m.strip_suffix("/tune") {
                Some(_) => "tuned",
                None if op == "delete" => "disabled",
                None => "enabled",
            };
            let m = m.strip_suffix("/tune").unwrap_or(m);
            (rule.to_string(), format!("{what} {m}/ {verb}"))
        };
        let found = if let Some(m) = path.strip_prefix("sys/auth/") {
            Some(mount("auth-method-changed", "auth method", m))
        } else if let Some(m) = path
            .strip_prefix("sys/mounts/auth/")
            .filter(|m| m.ends_with("/tune"))
        {
            Some(mount("auth-method-changed", "auth method", m))
        } else if let Some(m) = path.strip_prefix("sys/mounts/") {
            Some(mount("secrets-engine-changed", "secrets engine", m))
        } else if path == "sys/remount" {
            Some((
                "secrets-engine-changed".into(),
                "secrets engine moved".into(),
            ))
        } else {
            None
        };
        if let Some((rule, title)) = found {
            hit(&rule, String::new(), title, None);
        }
    }

    // audit-device-changed: also failed attempts (someone tried to blind the audit log).
    if e.is_response()
        && writes
        && (path.starts_with("sys/audit/") || path.starts_with("sys/config/auditing/"))
    {
        let what = path.trim_start_matches("sys/");
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
    if path.starts_with("sys/wrapping/unwrap") {
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
    if e.is_request() && matches!(path, "sys/seal" | "sys/step-down") {
        let what = if path == "sys/seal" {
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
