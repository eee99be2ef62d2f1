//! What the rule engine counted (one thread): entries, drops it decided,
//! alerts per rule, and bounded breakdowns of the requests by type,
//! operation, path prefix and auth method.

use super::entry::Entry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Distinct keys kept per breakdown; the rest count under "(other)".
const MAX_KEYS: usize = 1000;

/// Counted by the engine (one thread).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EngineCounts {
    pub entries: u64,
    pub not_json: u64,
    pub duplicates: u64,
    pub alerts: BTreeMap<String, u64>,
    pub requests: RequestBreakdown,
}

/// Requests by type, operation, path prefix and auth method (bounded, see
/// [`MAX_KEYS`]).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestBreakdown {
    pub by_type: BTreeMap<String, u64>,
    pub by_operation: BTreeMap<String, u64>,
    pub by_path_prefix: BTreeMap<String, u64>,
    pub by_auth_method: BTreeMap<String, u64>,
}

impl EngineCounts {
    pub(crate) fn count(&mut self, e: &Entry<'_>) {
        self.entries += 1;
        self.requests.count(e);
    }
}

impl RequestBreakdown {
    fn count(&mut self, e: &Entry<'_>) {
        bump(&mut self.by_type, &e.kind);
        if !e.is_request() {
            return;
        }
        bump(&mut self.by_operation, e.operation());
        bump(&mut self.by_path_prefix, &path_prefix(e.path()));
        if let Some(name) = e.auth.as_ref().and_then(|a| a.display_name.as_deref()) {
            bump(
                &mut self.by_auth_method,
                name.split('-').next().unwrap_or(name),
            );
        }
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < MAX_KEYS {
        map.insert(key.to_string(), 1);
    } else {
        *map.entry("(other)".into()).or_default() += 1;
    }
}

/// The first two segments: `secret/data`, `auth/approle`, `sys/mounts`.
pub(crate) fn path_prefix(path: &str) -> String {
    let mut it = path.splitn(3, '/');
    match (it.next(), it.next()) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}/{b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
