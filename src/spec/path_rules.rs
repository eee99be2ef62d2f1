//! The spec's side of [`crate::paths`]: applies the path rules to a spec's
//! `stateDir`, `outputDir`s, `cacheDir`s and credential files, and turns each
//! [`Refusal`] into a [`Problem`] at its JSON path.

use super::error::Problem;
use super::model::{AppRoleSpec, SecretSpec};
use crate::paths::{Dir, Refusal};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A refusal at `json_path`: `"<message> [rule: <rule>]"`.
fn problem(json_path: &str, refusal: Refusal) -> Problem {
    Problem::new(json_path, refusal.to_string())
}

/// A directory path spelled as [`crate::paths::syntax`] requires.
pub(crate) fn syntax(json_path: &str, value: &str) -> Result<PathBuf, Problem> {
    crate::paths::syntax(value).map_err(|r| problem(json_path, r))
}

/// `stateDir` on its own: not a system tree, not a shared system directory.
pub(crate) fn check_state_dir(state_dir: &Path, problems: &mut Vec<Problem>) {
    if let Some(r) = crate::paths::state_dir(state_dir) {
        problems.push(problem("stateDir", r));
    }
}

/// Every secret's outputDir and cacheDir by [`crate::paths::check_layout`].
pub(crate) fn check_spec_paths(
    state_dir: &Path,
    approle: &AppRoleSpec,
    secrets: &BTreeMap<String, SecretSpec>,
    problems: &mut Vec<Problem>,
) {
    let mut credentials = vec![
        ("approle.roleIdFile", approle.role_id_file.as_path()),
        ("approle.secretIdFile", approle.secret_id_file.as_path()),
    ];
    if let Some(f) = &approle.wrapped_token_file {
        credentials.push(("approle.wrappedTokenFile", f.as_path()));
    }
    let found = crate::paths::check_layout(state_dir, &credentials, &dirs(state_dir, secrets));
    problems.extend(found.into_iter().map(|(at, r)| problem(&at, r)));
}

/// Each secret's outputDir then cacheDir, with the example its fix names.
fn dirs<'a>(state_dir: &Path, secrets: &'a BTreeMap<String, SecretSpec>) -> Vec<Dir<'a>> {
    let cache_root = state_dir.join("cache");
    let mut out = Vec::new();
    for (name, s) in secrets {
        out.push(Dir {
            at: format!("secrets.{name}.outputDir"),
            is_cache: false,
            path: &s.output_dir,
            example: format!("/run/secrets/{name}"),
        });
        out.push(Dir {
            at: format!("secrets.{name}.cacheDir"),
            is_cache: true,
            path: &s.cache_dir,
            example: cache_root.join(name).display().to_string(),
        });
    }
    out
}
