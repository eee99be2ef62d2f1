//! Where vaultkeeper may write, in one place: the rules for `outputDir`,
//! `cacheDir` and `stateDir` that `check`, `fetch` and the daemon apply when
//! they load a spec ([`check_spec_paths`]), and the run-time rules for the
//! directories on the way to them ([`walk`]).
//!
//! The list of system directories is data, `nix/path-rules.json`, compiled in
//! here and read by the NixOS module with `builtins.fromJSON`, so both refuse
//! the same paths. Every refusal names the JSON path, the rule and the fix; the
//! rules are listed with their tests in `docs/explanation/security-model.md`.

pub mod walk;

use crate::spec::{AppRoleSpec, Problem, SecretSpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// The system-directory lists, shared with the NixOS module.
pub const RULES_JSON: &str = include_str!("../../nix/path-rules.json");

/// The lists of `nix/path-rules.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rules {
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
pub fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        serde_json::from_str(RULES_JSON)
            .expect("nix/path-rules.json is valid (a unit test parses it)")
    })
}

/// The longest path we accept (PATH_MAX less room for our own names).
const MAX_PATH: usize = 3800;
/// `.<leaf>.vaultkeeper.link-<pid>-<16 hex>` must fit in NAME_MAX (255).
const MAX_LEAF: usize = 200;

/// Why a path is refused: the rule's name (as in the security model) and the message.
fn problem(json_path: &str, rule: &str, message: String) -> Problem {
    Problem::new(json_path, format!("{message} [rule: {rule}]"))
}

/// Checks the spelling of a directory path: absolute, normalised (no `.`, `..`,
/// `//` or trailing slash), printable, not `/`, not too long.
pub fn syntax(json_path: &str, value: &str) -> Result<PathBuf, Problem> {
    let p = PathBuf::from(value);
    let fix = |what: &str| {
        problem(
            json_path,
            "normalised-absolute",
            format!("{value:?} {what}"),
        )
    };
    if !p.is_absolute() {
        return Err(fix(
            "is not an absolute path; write it from the root, e.g. \"/run/secrets/NAME\"",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(fix("contains a control character; write a plain path"));
    }
    if value.len() > MAX_PATH {
        return Err(fix(&format!(
            "is longer than {MAX_PATH} bytes; choose a shorter path"
        )));
    }
    let normal: PathBuf = p
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(fix("contains \"..\"; write the path without it"));
    }
    if normal.as_os_str() != p.as_os_str() {
        return Err(fix(&format!(
            "is not normalised; write {:?} (no \".\", \"//\" or trailing slash)",
            normal.display().to_string()
        )));
    }
    if p.parent().is_none() {
        return Err(fix("is the root directory; name a directory below it"));
    }
    if p.file_name().is_some_and(|n| n.len() > MAX_LEAF) {
        return Err(fix(&format!(
            "has a last component longer than {MAX_LEAF} bytes; choose a shorter name"
        )));
    }
    Ok(p)
}

/// A component vaultkeeper uses for its own files beside an outputDir
/// (`.NAME.vaultkeeper`, `.NAME.vaultkeeper.link-*`).
fn is_reserved_component(c: &std::ffi::OsStr) -> bool {
    let s = c.to_string_lossy();
    s.starts_with('.') && s.contains(".vaultkeeper")
}

/// Why `dir` is a system directory, if it is one.
pub fn system_reason(dir: &Path) -> Option<String> {
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

/// The rules one directory must follow on its own (no other secret needed).
fn own_rules(json_path: &str, dir: &Path, example: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    if dir
        .components()
        .any(|c| is_reserved_component(c.as_os_str()))
    {
        out.push(problem(
            json_path,
            "reserved-name",
            format!(
                "{:?} uses a name vaultkeeper reserves for its own files (\".*.vaultkeeper*\"); choose another name, e.g. {example:?}",
                dir.display().to_string()
            ),
        ));
    }
    if let Some(why) = system_reason(dir) {
        out.push(problem(
            json_path,
            "system-directory",
            format!(
                "{:?} {why}; vaultkeeper replaces its target with a symlink and would move what is there aside; write a directory of its own, e.g. {example:?}",
                dir.display().to_string()
            ),
        ));
    }
    out
}

/// Checks `stateDir` on its own: not a system tree, not a shared system directory.
pub fn check_state_dir(state_dir: &Path, problems: &mut Vec<Problem>) {
    let r = rules();
    let refused = r.system_trees.iter().any(|t| state_dir.starts_with(t))
        || r.system_dirs.iter().any(|d| d == state_dir);
    if refused
        || state_dir
            .components()
            .any(|c| is_reserved_component(c.as_os_str()))
    {
        problems.push(problem(
            "stateDir",
            "system-directory",
            format!(
                "{:?} is a system directory (or inside one) or uses a reserved name; vaultkeeper makes stateDir 0700 and keeps credentials there; write e.g. \"/var/lib/vaultkeeper\"",
                state_dir.display().to_string()
            ),
        ));
    }
}

/// The cross-secret rules: nothing inside stateDir but the secrets' caches
/// (below `<stateDir>/cache/`), no directory nested in or containing another,
/// none containing stateDir or a credential file.
pub fn check_spec_paths(
    state_dir: &Path,
    approle: &AppRoleSpec,
    secrets: &BTreeMap<String, SecretSpec>,
    problems: &mut Vec<Problem>,
) {
    let cache_root = state_dir.join("cache");
    let mut dirs: Vec<(String, &Path)> = Vec::new();
    for (name, s) in secrets {
        let example_out = format!("/run/secrets/{name}");
        let example_cache = cache_root.join(name).display().to_string();
        for (key, dir, example) in [
            ("outputDir", &s.output_dir, &example_out),
            ("cacheDir", &s.cache_dir, &example_cache),
        ] {
            let at = format!("secrets.{name}.{key}");
            problems.extend(own_rules(&at, dir, example));
            let shown = dir.display().to_string();
            if state_dir.starts_with(dir) {
                problems.push(problem(
                    &at,
                    "contains-state-dir",
                    format!(
                        "{shown:?} is or contains stateDir {:?} (the AppRole credentials, caches and locks); write a directory of its own, e.g. {example:?}",
                        state_dir.display().to_string()
                    ),
                ));
            } else if dir.starts_with(state_dir)
                && !(key == "cacheDir" && dir.starts_with(&cache_root) && **dir != cache_root)
            {
                problems.push(problem(
                    &at,
                    "inside-state-dir",
                    format!(
                        "{shown:?} is inside stateDir {:?}, where vaultkeeper keeps its credentials and state; only a secret's cache may live there, below {:?}; write e.g. {example:?}",
                        state_dir.display().to_string(),
                        cache_root.display().to_string()
                    ),
                ));
            }
            let files = [
                ("approle.roleIdFile", Some(&approle.role_id_file)),
                ("approle.secretIdFile", Some(&approle.secret_id_file)),
                (
                    "approle.wrappedTokenFile",
                    approle.wrapped_token_file.as_ref(),
                ),
            ];
            for (what, file) in files {
                if let Some(f) = file.filter(|f| f.starts_with(dir)) {
                    problems.push(problem(
                        &at,
                        "contains-credentials",
                        format!(
                            "{shown:?} contains {what} {:?}; a render would move it aside; keep credentials outside every outputDir and cacheDir",
                            f.display().to_string()
                        ),
                    ));
                }
            }
            dirs.push((at, dir));
        }
    }
    // Pairs: the same directory twice, or one inside another.
    for (i, (a_at, a)) in dirs.iter().enumerate() {
        for (b_at, b) in &dirs[i + 1..] {
            let message = if a == b {
                format!(
                    "{:?} is also {b_at}; give each secret and its cache a directory of its own",
                    a.display().to_string()
                )
            } else if b.starts_with(a) {
                format!(
                    "{:?} contains {b_at} {:?}; a render of one would move the other aside; use directories side by side, e.g. /run/secrets/NAME",
                    a.display().to_string(),
                    b.display().to_string()
                )
            } else if a.starts_with(b) {
                format!(
                    "{:?} is inside {b_at} {:?}; a render of one would move the other aside; use directories side by side, e.g. /run/secrets/NAME",
                    a.display().to_string(),
                    b.display().to_string()
                )
            } else {
                continue;
            };
            problems.push(problem(a_at, "nested", message));
        }
    }
}

#[cfg(test)]
mod tests;
