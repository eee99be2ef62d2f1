//! One writer per secret: the per-secret locks ([`crate::lock`]) taken in
//! name order, the debris a crashed writer left removed under the lock, and
//! the failure recorded in the secret's status record.

use super::outcome::{Outcome, SecretError};
use crate::cache;
use crate::lock::SecretLock;
use crate::render::{self, Rendered};
use crate::spec::SecretSpec;
use crate::state;
use std::path::Path;
use std::time::Duration;

/// Takes the locks of `names` in name order; a secret whose lock cannot be had
/// in time fails alone (the others go on).
pub(super) fn lock_in_order(
    state_dir: &Path,
    mut names: Vec<String>,
    timeout: Duration,
) -> (Vec<SecretLock>, Vec<(String, Outcome)>) {
    names.sort();
    names.dedup();
    let (mut locks, mut refused) = (Vec::new(), Vec::new());
    for name in names {
        match SecretLock::acquire_in(state_dir, &name, timeout) {
            Ok(l) => locks.push(l),
            Err(e) => {
                refused.push((name, Outcome::Failed(SecretError::Lock(e))));
            }
        }
    }
    (locks, refused)
}

/// Whether the caller already holds the secret's lock.
#[derive(Debug, Clone, Copy)]
pub(super) enum Locking {
    /// Held by the caller (`fetch` holds all its secrets' locks).
    Held,
    /// Take it (the daemon: one secret at a time), waiting at most this long.
    Take(Duration),
}

/// Runs `f` as a render of `secret` must run: under the secret's lock (taken
/// here unless `locking` says it is held), after removing the debris earlier
/// renders left in its cacheDir and status directory.
pub(super) fn under_lock<T>(
    secret: &SecretSpec,
    state_dir: &Path,
    locking: Locking,
    f: impl FnOnce() -> Result<T, SecretError>,
) -> Result<T, SecretError> {
    let _lock = match locking {
        Locking::Held => None,
        Locking::Take(timeout) => Some(SecretLock::acquire_in(state_dir, &secret.name, timeout)?),
    };
    let removed = cache::clean_debris(secret) + state::clean_debris(state_dir, &secret.name);
    if removed > 0 {
        tracing::info!(secret = %secret.name, removed, "removed temporary files a crashed run left behind");
    }
    f()
}

/// Re-renders a secret from its cache, under its lock (the daemon's self-heal);
/// `Ok(None)` without a cache.
pub(crate) fn render_cached(
    secret: &SecretSpec,
    state_dir: &Path,
) -> Result<Option<Rendered>, String> {
    under_lock(
        secret,
        state_dir,
        Locking::Take(crate::lock::DEFAULT_TIMEOUT),
        || match cache::load(secret)? {
            None => Ok(None),
            Some(entry) => Ok(Some(render::render(secret, &entry.data)?)),
        },
    )
    .map_err(|e| e.to_string())
}

pub(super) fn record_failure(state_dir: &Path, name: &str, err: &SecretError) {
    let mut st = state::load(state_dir, name);
    st.last_error = Some(err.to_string());
    state::save(state_dir, name, &st);
}
