//! The built-in rules about the server's configuration: root generation,
//! policies, mounts and tuning, plugins, raw storage, forced lease
//! revocation, identity policies, namespaces, audit devices, seal.

use super::classify::{grants_sudo, identity_with_policies, tune_detail, DANGEROUS_TUNES};
use super::context::Ctx;
use super::hit::{error_detail, Hit};
use serde_json::Value;

/// generate-root (and the recovery-token variant): started or completed.
pub(super) fn generate_root(c: &mut Ctx<'_, '_>) {
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

pub(super) fn policy_changed(c: &mut Ctx<'_, '_>) {
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
pub(super) fn mount_changed(c: &mut Ctx<'_, '_>) {
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
pub(super) fn plugin_registered(c: &mut Ctx<'_, '_>) {
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
pub(super) fn raw_storage_access(c: &mut Ctx<'_, '_>) {
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
pub(super) fn lease_force_revoked(c: &mut Ctx<'_, '_>) {
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
pub(super) fn identity_policy_attached(c: &mut Ctx<'_, '_>) {
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

pub(super) fn namespace_changed(c: &mut Ctx<'_, '_>) {
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
pub(super) fn audit_device_changed(c: &mut Ctx<'_, '_>) {
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

/// seal, step-down: often only a request line.
pub(super) fn seal(c: &mut Ctx<'_, '_>) {
    if c.e.is_request() && matches!(c.sys, Some("seal" | "step-down")) {
        let what = c.sys.unwrap_or_default();
        c.hit(
            "seal",
            Hit::new(format!("{what} requested"), error_detail(c.e.error())),
        );
    }
}
