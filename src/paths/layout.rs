//! The rules between directories: nothing inside `stateDir` but the secrets'
//! caches (below `<stateDir>/cache/`), no directory nested in or containing
//! another, none containing `stateDir` or a credential file.

use super::dir_rules::own_rules;
use super::refusal::Refusal;
use std::path::Path;

/// One directory vaultkeeper writes for a secret.
#[derive(Debug)]
pub(crate) struct Dir<'a> {
    /// Its JSON path, e.g. `secrets.db.outputDir`.
    pub at: String,
    /// A secret's cache (which may live below `<stateDir>/cache/`).
    pub is_cache: bool,
    pub path: &'a Path,
    /// A directory that would do, said in the fix.
    pub example: String,
}

/// A file the directories must not contain: its JSON path and where it is.
pub(crate) type Credential<'a> = (&'static str, &'a Path);

/// Every refusal, with the JSON path it is about, in the order of `dirs`
/// (each directory's own rules, stateDir, credentials), then the pairs.
pub(crate) fn check_layout(
    state_dir: &Path,
    credentials: &[Credential<'_>],
    dirs: &[Dir<'_>],
) -> Vec<(String, Refusal)> {
    let mut out = Vec::new();
    for d in dirs {
        let mut found = own_rules(d.path, &d.example);
        found.extend(state_dir_relation(state_dir, d));
        found.extend(credentials_inside(credentials, d));
        out.extend(found.into_iter().map(|r| (d.at.clone(), r)));
    }
    out.extend(nested_pairs(dirs));
    out
}

/// A directory that is, contains or is inside `stateDir` (a cache below
/// `<stateDir>/cache/` is fine).
fn state_dir_relation(state_dir: &Path, d: &Dir<'_>) -> Option<Refusal> {
    let cache_root = state_dir.join("cache");
    let shown = d.path.display().to_string();
    let example = &d.example;
    if state_dir.starts_with(d.path) {
        return Some(Refusal::new(
            "contains-state-dir",
            format!(
                "{shown:?} is or contains stateDir {:?} (the AppRole credentials, caches and locks); write a directory of its own, e.g. {example:?}",
                state_dir.display().to_string()
            ),
        ));
    }
    let allowed_cache = d.is_cache && d.path.starts_with(&cache_root) && d.path != cache_root;
    (d.path.starts_with(state_dir) && !allowed_cache).then(|| {
        Refusal::new(
            "inside-state-dir",
            format!(
                "{shown:?} is inside stateDir {:?}, where vaultkeeper keeps its credentials and state; only a secret's cache may live there, below {:?}; write e.g. {example:?}",
                state_dir.display().to_string(),
                cache_root.display().to_string()
            ),
        )
    })
}

/// The credential files inside the directory.
fn credentials_inside(credentials: &[Credential<'_>], d: &Dir<'_>) -> Vec<Refusal> {
    let shown = d.path.display().to_string();
    credentials
        .iter()
        .filter(|(_, f)| f.starts_with(d.path))
        .map(|(what, f)| {
            Refusal::new(
                "contains-credentials",
                format!(
                    "{shown:?} contains {what} {:?}; a render would move it aside; keep credentials outside every outputDir and cacheDir",
                    f.display().to_string()
                ),
            )
        })
        .collect()
}

/// Pairs: the same directory twice, or one inside another.
fn nested_pairs(dirs: &[Dir<'_>]) -> Vec<(String, Refusal)> {
    let mut out = Vec::new();
    for (i, a) in dirs.iter().enumerate() {
        for b in &dirs[i + 1..] {
            if let Some(message) = nesting(a, b) {
                out.push((a.at.clone(), Refusal::new("nested", message)));
            }
        }
    }
    out
}

/// Why `a` and `b` cannot both be written, if they cannot.
fn nesting(a: &Dir<'_>, b: &Dir<'_>) -> Option<String> {
    let (ap, bp, b_at) = (a.path, b.path, &b.at);
    let shown = |p: &Path| format!("{:?}", p.display().to_string());
    if ap == bp {
        Some(format!(
            "{} is also {b_at}; give each secret and its cache a directory of its own",
            shown(ap)
        ))
    } else if bp.starts_with(ap) {
        Some(format!(
            "{} contains {b_at} {}; a render of one would move the other aside; use directories side by side, e.g. /run/secrets/NAME",
            shown(ap),
            shown(bp)
        ))
    } else if ap.starts_with(bp) {
        Some(format!(
            "{} is inside {b_at} {}; a render of one would move the other aside; use directories side by side, e.g. /run/secrets/NAME",
            shown(ap),
            shown(bp)
        ))
    } else {
        None
    }
}
