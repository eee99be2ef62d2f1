//! The built-in rules. Each looks at one entry and says whether (and why) it
//! fires; coalescing is the engine's business. Paths are OpenBao's and Vault's
//! (`sys/policy/x` and `sys/policies/acl/x`, `sys/generate-root*`, ...).
//!
//! [`RULES`] lists one small function per rule (or per family of rules that
//! share one test), in the order their hits are raised.

use super::classify::{
    grants_sudo, human, identity_with_policies, is_login, normalize, orphan, periodic, sys_path,
    tune_detail, DANGEROUS_TUNES,
};
use super::hit::{error_detail, Hit};
use super::memory::RuleMemory;
use crate::audit::entry::{Auth, Entry};
use crate::spec::audit::AuditSpec;
use serde_json::Value;

/// One entry as every rule sees it, and where hits go.
pub(super) struct Ctx<'a, 'e> {
    e: &'a Entry<'e>,
    /// The request path, normalized (`/sys//policy/x/` → `sys/policy/x`).
    path: &'a str,
    /// Every spelling of a system path: `sys/x`, `/sys/x/`, `sys//x`, and
    /// `<namespace>/sys/x` (a namespace given in the URL path).
    sys: Option<&'a str>,
    op: &'a str,
    /// A response without an error.
    ok_response: bool,
    /// create, update, delete or patch.
    writes: bool,
    now: i64,
    spec: &'a AuditSpec,
    memory: &'a mut RuleMemory,
    hits: &'a mut Vec<(String, Hit)>,
}

impl Ctx<'_, '_> {
    fn hit(&mut self, rule: &str, hit: Hit) {
        self.hits.push((rule.to_string(), hit));
    }

    /// "deleted" for a delete, else `otherwise`.
    fn verb(&self, deleted: &'static str, otherwise: &'static str) -> &'static str {
        if self.op == "delete" {
            deleted
        } else {
            otherwise
        }
    }
}

type RuleFn = fn(&mut Ctx<'_, '_>);

/// The rules in the order they run: (the rule ids a function raises, the function).
pub(super) const RULES: &[(&[&str], RuleFn)] = &[
    (&["root-token-used"], root_token_used),
    (&["root-token-new-address"], root_token_new_address),
    (&["root-token-created"], root_token_created),
    (&["token-no-expiry", "token-long-ttl"], token_lifetime),
    (&["orphan-token"], orphan_token),
    (&["generate-root"], generate_root),
    (&["policy-changed"], policy_changed),
    (
        &[
            "auth-method-changed",
            "secrets-engine-changed",
            "mount-tuned",
        ],
        mount_changed,
    ),
    (&["plugin-registered"], plugin_registered),
    (&["raw-storage-access"], raw_storage_access),
    (&["lease-force-revoked"], lease_force_revoked),
    (&["identity-policy-attached"], identity_policy_attached),
    (&["namespace-changed"], namespace_changed),
    (&["audit-device-changed"], audit_device_changed),
    (&["wrapping-token-invalid"], wrapping_token_invalid),
    (&["login-failures"], login_failures),
    (&["seal"], seal),
];

/// Runs every built-in rule over `e`; hits go to `hits` in [`RULES`] order.
pub(super) fn evaluate(
    memory: &mut RuleMemory,
    spec: &AuditSpec,
    e: &Entry<'_>,
    now: i64,
    hits: &mut Vec<(String, Hit)>,
) {
    let normalized = normalize(e.path());
    let path = normalized.as_str();
    if path == "sys/audit/test" && e.auth.as_ref().is_none_or(|a| a.accessor.is_none()) {
        return; // the device test OpenBao sends when it enables the device
    }
    let op = e.operation();
    let mut ctx = Ctx {
        e,
        path,
        sys: sys_path(e, path),
        op,
        ok_response: e.is_response() && e.error().is_none(),
        writes: matches!(op, "create" | "update" | "delete" | "patch"),
        now,
        spec,
        memory,
        hits,
    };
    for (_, rule) in RULES {
        rule(&mut ctx);
    }
}

/// Every request a root token makes, per accessor.
fn root_token_used(c: &mut Ctx<'_, '_>) {
    if !(c.e.is_request() && c.e.caller_is_root()) {
        return;
    }
    let a = c.e.auth.as_ref();
    let key = a
        .and_then(|a| a.accessor.as_deref().or(a.display_name.as_deref()))
        .unwrap_or("")
        .to_string();
    let title = format!("root token used: {} {}", c.op, c.path);
    c.hit("root-token-used", Hit::new(title, None).keyed(key));
}

/// The first request with a root token from each remote address.
fn root_token_new_address(c: &mut Ctx<'_, '_>) {
    if !(c.e.is_request() && c.e.caller_is_root()) {
        return;
    }
    let remote = c.e.remote_address();
    if !remote.is_empty() && c.memory.first_root_address(remote) {
        let detail = format!(
            "first request with a root token from {remote} since the agent started: {} {}",
            c.op, c.path
        );
        let title = format!("root token used from a new address: {remote}");
        c.hit("root-token-new-address", Hit::new(title, Some(detail)));
    }
}

/// The token a successful response hands out: (its facts, "name with policies [..]").
fn new_token<'a>(c: &Ctx<'a, '_>) -> Option<(&'a Auth<'a>, String)> {
    if !c.ok_response {
        return None;
    }
    let t = c.e.new_token()?;
    let name = t.display_name.as_deref().unwrap_or("");
    Some((
        t,
        format!(
            "new token {name:?} with policies [{}]",
            t.policies.join(", ")
        ),
    ))
}

fn is_root(t: &Auth<'_>) -> bool {
    t.policies.iter().any(|p| p == "root")
}

fn root_token_created(c: &mut Ctx<'_, '_>) {
    if let Some((_, what)) = new_token(c).filter(|(t, _)| is_root(t)) {
        c.hit(
            "root-token-created",
            Hit::new("root token created", Some(what)),
        );
    }
}

/// A non-root token without expiry, periodic, or with a TTL at or above the threshold.
fn token_lifetime(c: &mut Ctx<'_, '_>) {
    let Some((t, what)) = new_token(c).filter(|(t, _)| !is_root(t)) else {
        return;
    };
    let ttl = t.token_ttl.unwrap_or(0);
    let threshold = c.spec.rule("token-long-ttl").ttl.as_secs();
    if ttl <= 0 {
        let hit = Hit::new(
            "token created without expiry",
            Some(format!("{what} has no TTL")),
        );
        c.hit("token-no-expiry", hit);
    } else if periodic(c.e) {
        let detail = format!("{what}, period {}", human(ttl));
        let hit = Hit::new("periodic token created (renewable forever)", Some(detail));
        c.hit("token-no-expiry", hit);
    } else if ttl as u64 >= threshold {
        let title = format!("token created with a TTL of {}", human(ttl));
        let detail = format!("{what}; threshold {}", human(threshold as i64));
        c.hit("token-long-ttl", Hit::new(title, Some(detail)));
    }
}

fn orphan_token(c: &mut Ctx<'_, '_>) {
    if let Some((_, what)) = new_token(c).filter(|(t, _)| !is_root(t) && orphan(c.e)) {
        let hit = Hit::new(
            "orphan token created",
            Some(format!("{what} has no parent")),
        );
        c.hit("orphan-token", hit);
    }
}

/// generate-root (and the recovery-token variant): started or completed.
fn generate_root(c: &mut Ctx<'_, '_>) {
    let gen = c.sys.and_then(|p| {
        p.strip_prefix("generate-root")
            .or_else(|| p.strip_prefix("generate-recovery-token"))
    });
    let Some(rest) = gen.filter(|_| c.ok_response) else {
        return;
    };
    if rest.ends_with("attempt") && matches!(c.op, "update" | "create") {
        c.hit(
            "generate-root",
            Hit::new("root token generation started", None),
        );
    } else if rest.ends_with("update") && c.e.response_field("complete") == Some(Value::Bool(true))
    {
        c.hit(
            "generate-root",
            Hit::new(
                "root token generation COMPLETED: a new root token exists",
                Some("the last unseal key share was entered; whoever holds the OTP can decode the root token".into()),
            ),
        );
    }
}

fn policy_changed(c: &mut Ctx<'_, '_>) {
    if !(c.ok_response && c.writes) {
        return;
    }
    let Some(name) = c.sys.and_then(|p| {
        p.strip_prefix("policies/acl/")
            .or_else(|| p.strip_prefix("policy/"))
    }) else {
        return;
    };
    let verb = c.verb("deleted", "written");
    let sudo = c.op != "delete" && grants_sudo(c.e);
    let title = format!(
        "policy {name} {verb}{}",
        if sudo { " (grants sudo)" } else { "" }
    );
    let detail = sudo.then(|| "the policy grants the sudo capability".to_string());
    c.hit("policy-changed", Hit::new(title, detail).critical_if(sudo));
}

/// A mount or tune hit: critical, with what the dangerous keys do, when any is given.
fn dangerous_hit(title: String, joiner: &str, dangerous: &[&str]) -> Hit {
    let title = if dangerous.is_empty() {
        title
    } else {
        format!("{title}{joiner}{}", dangerous.join(", "))
    };
    let detail = (!dangerous.is_empty()).then(|| tune_detail(dangerous));
    Hit::new(title, detail).critical_if(!dangerous.is_empty())
}

/// auth-method-changed, secrets-engine-changed, mount-tuned.
fn mount_changed(c: &mut Ctx<'_, '_>) {
    let Some(sp) = c.sys.filter(|_| c.ok_response && c.writes) else {
        return;
    };
    let mount = sp
        .strip_prefix("mounts/auth/")
        .or_else(|| sp.strip_prefix("auth/"))
        .map(|m| ("auth-method-changed", "auth method", m))
        .or_else(|| {
            sp.strip_prefix("mounts/")
                .map(|m| ("secrets-engine-changed", "secrets engine", m))
        });
    if let Some((rule, what, m)) = mount {
        if let Some(m) = m.strip_suffix("/tune") {
            let dangerous: Vec<&str> = DANGEROUS_TUNES
                .iter()
                .copied()
                .filter(|k| c.e.request_field(k).is_some())
                .collect();
            let hit = dangerous_hit(format!("{what} {m}/ tuned"), ": ", &dangerous);
            c.hit("mount-tuned", hit);
        } else {
            let verb = c.verb("disabled", "enabled");
            let dangerous: Vec<&str> = match c.e.request_field("config") {
                Some(Value::Object(cfg)) => DANGEROUS_TUNES
                    .iter()
                    .copied()
                    .filter(|k| cfg.contains_key(*k))
                    .collect(),
                _ => Vec::new(),
            };
            let hit = dangerous_hit(format!("{what} {m}/ {verb}"), " with ", &dangerous);
            c.hit(rule, hit);
        }
    } else if sp == "remount" || sp.starts_with("remount/") {
        c.hit(
            "secrets-engine-changed",
            Hit::new("secrets engine moved", None),
        );
    }
}

/// A binary registered in the catalog runs inside Vault.
fn plugin_registered(c: &mut Ctx<'_, '_>) {
    let Some(name) = c.sys.and_then(|p| p.strip_prefix("plugins/catalog/")) else {
        return;
    };
    if c.e.is_response() && c.writes {
        let verb = c.verb("removed from", "registered in");
        let title = match c.e.error() {
            None => format!("plugin {name} {verb} the catalog"),
            Some(_) => format!("attempt to change plugin {name} in the catalog refused"),
        };
        c.hit(
            "plugin-registered",
            Hit::new(title, error_detail(c.e.error())),
        );
    }
}

/// sys/raw reads and writes storage below every check.
fn raw_storage_access(c: &mut Ctx<'_, '_>) {
    let Some(rest) = c.sys.and_then(|p| {
        p.strip_prefix("raw")
            .filter(|r| r.is_empty() || r.starts_with('/'))
    }) else {
        return;
    };
    if c.e.is_response() {
        let what = Some(rest.trim_start_matches('/'))
            .filter(|w| !w.is_empty())
            .unwrap_or("(root)");
        let op = c.op;
        let title = match c.e.error() {
            None => format!("raw storage {op}: {what}"),
            Some(_) => format!("raw storage {op} refused: {what}"),
        };
        c.hit(
            "raw-storage-access",
            Hit::new(title, error_detail(c.e.error())),
        );
    }
}

/// revoke-force skips the backend's own revocation (credentials may live on);
/// revoke-prefix revokes everything under a path.
fn lease_force_revoked(c: &mut Ctx<'_, '_>) {
    if !(c.ok_response && c.writes) {
        return;
    }
    let forced = c.sys.and_then(|p| {
        let p = p.strip_prefix("leases/").unwrap_or(p);
        ["revoke-force", "revoke-prefix"]
            .into_iter()
            .find_map(|how| p.strip_prefix(how)?.strip_prefix('/').map(|x| (how, x)))
    });
    if let Some((how, prefix)) = forced {
        c.hit(
            "lease-force-revoked",
            Hit::new(format!("leases revoked with {how}: {prefix}"), None),
        );
    }
}

/// An entity or group given policies.
fn identity_policy_attached(c: &mut Ctx<'_, '_>) {
    if c.ok_response && matches!(c.op, "create" | "update") && identity_with_policies(c.e, c.path) {
        let name = c.path.trim_start_matches("identity/");
        c.hit(
            "identity-policy-attached",
            Hit::new(
                format!("policies attached to identity {name}"),
                Some("an entity or group written with policies: every token of its members gets them".into()),
            ),
        );
    }
}

fn namespace_changed(c: &mut Ctx<'_, '_>) {
    let Some(ns) = c.sys.and_then(|p| p.strip_prefix("namespaces/")) else {
        return;
    };
    if c.ok_response && c.writes && !ns.is_empty() && !ns.starts_with("api-lock") {
        let verb = c.verb("deleted", "created or changed");
        c.hit(
            "namespace-changed",
            Hit::new(format!("namespace {ns} {verb}"), None),
        );
    }
}

/// Also failed attempts (someone tried to blind the audit log).
fn audit_device_changed(c: &mut Ctx<'_, '_>) {
    let audit = |p: &str| p.starts_with("audit/") || p.starts_with("config/auditing/");
    if !(c.e.is_response() && c.writes && c.sys.is_some_and(audit)) {
        return;
    }
    let what = c.sys.unwrap_or(c.path);
    let verb = c.verb("disable", "change");
    let title = match c.e.error() {
        None => format!("audit configuration changed: {} {what}", c.op),
        Some(_) => format!("attempt to {verb} audit configuration refused: {what}"),
    };
    c.hit(
        "audit-device-changed",
        Hit::new(title, error_detail(c.e.error())),
    );
}

/// The error of a failed request seen for the first time (request and
/// response lines both carry it).
fn first_failure<'a>(c: &mut Ctx<'a, '_>) -> Option<&'a str> {
    let err = c.e.error()?;
    c.memory.first_failure(c.e.request_id()).then_some(err)
}

/// A used or bogus wrapping token (possible theft).
fn wrapping_token_invalid(c: &mut Ctx<'_, '_>) {
    if !c.sys.is_some_and(|p| p.starts_with("wrapping/unwrap")) {
        return;
    }
    if let Some(err) = first_failure(c) {
        c.hit(
            "wrapping-token-invalid",
            Hit::new(
                "unwrap of an invalid or already-used wrapping token",
                Some(format!("error: {err}; if this was a bootstrap token, it may have been stolen and used by someone else")),
            ),
        );
    }
}

/// Failed logins (threshold within the window, per path, role and address) and lockouts.
fn login_failures(c: &mut Ctx<'_, '_>) {
    if !is_login(c.path) {
        return;
    }
    let Some(err) = first_failure(c) else {
        return;
    };
    let path = c.path;
    let remote = c.e.remote_address();
    if err.contains("locked") {
        let hit = Hit::new(
            format!("login locked out at {path}"),
            Some(format!("error: {err}")),
        );
        c.hit(
            "login-failures",
            hit.keyed(format!("lockout|{path}|{remote}")),
        );
        return;
    }
    let role =
        c.e.request_field("role_id")
            .or_else(|| c.e.request_field("role"))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
    let key = format!("{path}|{role}|{remote}");
    let rule = c.spec.rule("login-failures");
    let (threshold, window) = (rule.count as usize, rule.window);
    let n = c
        .memory
        .login_failure(key.clone(), c.now, window.as_millis() as i64);
    if n >= threshold {
        let window = humantime::format_duration(window);
        let role = if role.is_empty() {
            String::new()
        } else {
            format!("; role {role}")
        };
        let mut hit = Hit::new(
            format!("{n} failed logins at {path} from {remote} within {window}"),
            Some(format!("last error: {err}{role}")),
        )
        .keyed(key);
        hit.count = n as u64;
        c.hit("login-failures", hit);
    }
}

/// seal, step-down: often only a request line.
fn seal(c: &mut Ctx<'_, '_>) {
    if c.e.is_request() && matches!(c.sys, Some("seal" | "step-down")) {
        let what = c.sys.unwrap_or_default();
        c.hit(
            "seal",
            Hit::new(format!("{what} requested"), error_detail(c.e.error())),
        );
    }
}

#[cfg(test)]
mod tests;
