//! The built-in rules. Each looks at one entry and says whether (and why) it
//! fires; coalescing is the engine's business. Paths are OpenBao's and Vault's
//! (`sys/policy/x` and `sys/policies/acl/x`, `sys/generate-root*`, ...).
//!
//! [`RULES`] lists one small function per rule (or per family of rules that
//! share one test), in the order their hits are raised.

use super::classify::{normalize, sys_path};
use super::context::Ctx;
use super::failure_rules::{login_failures, wrapping_token_invalid};
use super::hit::Hit;
use super::memory::RuleMemory;
use super::system_rules::{
    audit_device_changed, generate_root, identity_policy_attached, lease_force_revoked,
    mount_changed, namespace_changed, plugin_registered, policy_changed, raw_storage_access, seal,
};
use super::token_rules::{
    orphan_token, root_token_created, root_token_new_address, root_token_used, token_lifetime,
};
use crate::audit::entry::Entry;
use crate::spec::audit::AuditSpec;

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

#[cfg(test)]
mod tests;
