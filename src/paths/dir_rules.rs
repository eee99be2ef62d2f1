//! The rules one directory follows on its own: its spelling ([`syntax`]), no
//! reserved name, no system directory ([`own_rules`]); and `stateDir`'s
//! ([`state_dir`]).

use super::refusal::Refusal;
use super::system::{rules, system_reason};
use std::path::{Component, Path, PathBuf};

/// The longest path we accept (PATH_MAX less room for our own names).
const MAX_PATH: usize = 3800;
/// `.<leaf>.vaultkeeper.link-<pid>-<16 hex>` must fit in NAME_MAX (255).
const MAX_LEAF: usize = 200;

/// Checks the spelling of a directory path: absolute, normalised (no `.`, `..`,
/// `//` or trailing slash), printable, not `/`, not too long.
pub(crate) fn syntax(value: &str) -> Result<PathBuf, Refusal> {
    let p = PathBuf::from(value);
    let fix = |what: &str| Refusal::new("normalised-absolute", format!("{value:?} {what}"));
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

/// Whether any component of `dir` is a name vaultkeeper reserves.
fn has_reserved_component(dir: &Path) -> bool {
    dir.components()
        .any(|c| is_reserved_component(c.as_os_str()))
}

/// The rules one directory must follow on its own (no other secret needed).
pub(crate) fn own_rules(dir: &Path, example: &str) -> Vec<Refusal> {
    let mut out = Vec::new();
    if has_reserved_component(dir) {
        out.push(Refusal::new(
            "reserved-name",
            format!(
                "{:?} uses a name vaultkeeper reserves for its own files (\".*.vaultkeeper*\"); choose another name, e.g. {example:?}",
                dir.display().to_string()
            ),
        ));
    }
    if let Some(why) = system_reason(dir) {
        out.push(Refusal::new(
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
pub(crate) fn state_dir(state_dir: &Path) -> Option<Refusal> {
    let r = rules();
    let refused = r.system_trees.iter().any(|t| state_dir.starts_with(t))
        || r.system_dirs.iter().any(|d| d == state_dir);
    (refused || has_reserved_component(state_dir)).then(|| {
        Refusal::new(
            "system-directory",
            format!(
                "{:?} is a system directory (or inside one) or uses a reserved name; vaultkeeper makes stateDir 0700 and keeps credentials there; write e.g. \"/var/lib/vaultkeeper\"",
                state_dir.display().to_string()
            ),
        )
    })
}
