//! The system directories vaultkeeper never writes: the lists of
//! `nix/path-rules.json` (shared with the NixOS module) and [`system_reason`].

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The system-directory lists, shared with the NixOS module.
pub(crate) const RULES_JSON: &str = include_str!("../../nix/path-rules.json");

/// The lists of `nix/path-rules.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Rules {
    #[allow(dead_code)]
    comment: String,
    /// Refused, and everything below them.
    pub system_trees: Vec<PathBuf>,
    /// Refused themselves (a directory below them is fine).
    pub system_dirs: Vec<PathBuf>,
    /// Their direct children are a service's or a user's own directory: refused.
    pub service_parents: Vec<PathBuf>,
}

/// The rules, parsed once.
pub(crate) fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        serde_json::from_str(RULES_JSON)
            .expect("nix/path-rules.json is valid (a unit test parses it)")
    })
}

/// Why `dir` is a system directory, if it is one.
pub(crate) fn system_reason(dir: &Path) -> Option<String> {
    let r = rules();
    if let Some(tree) = r.system_trees.iter().find(|t| dir.starts_with(t)) {
        return Some(if dir == tree {
            format!("is {}, which the system owns", tree.display())
        } else {
            format!("is inside {}, which the system owns", tree.display())
        });
    }
    if r.system_dirs.iter().any(|d| d == dir) {
        return Some(format!(
            "is {} itself, a system directory shared by everything on the host",
            dir.display()
        ));
    }
    if let Some(parent) = dir.parent() {
        if r.service_parents.iter().any(|p| p == parent) {
            return Some(format!(
                "is a directory of its own in {} (a service's or user's directory, e.g. /var/lib/grafana)",
                parent.display()
            ));
        }
    }
    None
}
