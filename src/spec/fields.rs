//! Checks of single values that several sections share: absolute paths, the
//! directories vaultkeeper writes, durations, secret names, accounts, `onChange`.

use super::error::Problem;
use super::interval;
use super::on_change::OnChange;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) fn abs_path(problems: &mut Vec<Problem>, path: &str, value: &str) -> PathBuf {
    let p = PathBuf::from(value);
    if !p.is_absolute() {
        problems.push(Problem::new(path, format!("{value:?} is not an absolute path; write it from the root, e.g. \"/var/lib/vaultkeeper\"")));
    } else if p
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        problems.push(Problem::new(
            path,
            format!("{value:?} contains \"..\"; write the path without it"),
        ));
    } else if p.parent().is_none() {
        problems.push(Problem::new(
            path,
            format!("{value:?} is the root directory; name a directory below it"),
        ));
    }
    p
}

/// A directory vaultkeeper writes (stateDir, outputDir, cacheDir): spelled as
/// [`crate::paths::syntax`] requires.
pub(crate) fn dir_path(problems: &mut Vec<Problem>, path: &str, value: &str) -> PathBuf {
    super::path_rules::syntax(path, value).unwrap_or_else(|p| {
        problems.push(p);
        PathBuf::from(value)
    })
}

pub(crate) fn duration(
    problems: &mut Vec<Problem>,
    path: &str,
    value: Option<&str>,
    default: Duration,
) -> Duration {
    match value {
        None => default,
        Some(v) => interval::parse_duration(v).unwrap_or_else(|m| {
            problems.push(Problem::new(path, m));
            default
        }),
    }
}

/// A secret's name becomes `vault-secret-<name>.service` and a directory name.
pub(crate) fn check_secret_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} cannot name a secret: use letters, digits, '-', '_' and '.', not first '.' or '-' (it becomes the unit vault-secret-<name>.service)"))
    }
}

pub(crate) fn check_account(problems: &mut Vec<Problem>, path: &str, value: &str) {
    if value.is_empty()
        || value.len() > 256
        || value.contains([':', '/', '\0'])
        || value.chars().any(char::is_whitespace)
    {
        problems.push(Problem::new(
            path,
            format!("{value:?} is not a user or group name (or numeric id)"),
        ));
    }
}

/// `onChange` of a secret or template; `restart` when absent.
pub(crate) fn parse_on_change(
    problems: &mut Vec<Problem>,
    path: &str,
    value: Option<&str>,
) -> OnChange {
    match value {
        None | Some("restart") => OnChange::Restart,
        Some("reload") => OnChange::Reload,
        Some("none") => OnChange::None,
        Some(other) => {
            problems.push(Problem::new(
                path,
                format!("{other:?} is not one of \"restart\", \"reload\", \"none\""),
            ));
            OnChange::Restart
        }
    }
}

/// A name Vault puts in a path (host, role, mount segment): letters, digits,
/// `-`, `_` and `.`, not first `.`, at most 128 bytes.
pub(crate) fn check_segment(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a path segment: use letters, digits, '-', '_' and '.' (not first), nothing else"
        ))
    }
}
