//! One audit entry as every built-in rule sees it (normalized path, system
//! path, operation, outcome), the rules' memory and where hits go.

use super::hit::Hit;
use super::memory::RuleMemory;
use crate::audit::entry::Entry;
use crate::spec::audit::AuditSpec;

/// One entry as every rule sees it, and where hits go.
pub(super) struct Ctx<'a, 'e> {
    pub(super) e: &'a Entry<'e>,
    /// The request path, normalized (`/sys//policy/x/` → `sys/policy/x`).
    pub(super) path: &'a str,
    /// Every spelling of a system path: `sys/x`, `/sys/x/`, `sys//x`, and
    /// `<namespace>/sys/x` (a namespace given in the URL path).
    pub(super) sys: Option<&'a str>,
    pub(super) op: &'a str,
    /// A response without an error.
    pub(super) ok_response: bool,
    /// create, update, delete or patch.
    pub(super) writes: bool,
    pub(super) now: i64,
    pub(super) spec: &'a AuditSpec,
    pub(super) memory: &'a mut RuleMemory,
    pub(super) hits: &'a mut Vec<(String, Hit)>,
}

impl Ctx<'_, '_> {
    pub(super) fn hit(&mut self, rule: &str, hit: Hit) {
        self.hits.push((rule.to_string(), hit));
    }

    /// "deleted" for a delete, else `otherwise`.
    pub(super) fn verb(&self, deleted: &'static str, otherwise: &'static str) -> &'static str {
        if self.op == "delete" {
            deleted
        } else {
            otherwise
        }
    }
}
