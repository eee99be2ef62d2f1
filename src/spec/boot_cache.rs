//! `bootCacheMaxAge` (top level and per secret): how recently Vault must have
//! confirmed a secret's cache for `fetch --boot` to render it without Vault
//! (see [`crate::boot_cache`]).

use super::error::Problem;
use super::fields::duration;
use std::time::Duration;

/// `bootCacheMaxAge` when the spec does not set it.
pub(super) const DEFAULT_BOOT_CACHE_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// The longest `bootCacheMaxAge`: a cache older than a week is not "recent".
const MAX_BOOT_CACHE_MAX_AGE: Duration = Duration::from_secs(7 * 86_400);

/// A duration, `"0s"` allowed (always read Vault at boot), at most a week.
pub(crate) fn boot_cache_max_age(
    problems: &mut Vec<Problem>,
    path: &str,
    value: Option<&str>,
    default: Duration,
) -> Duration {
    let d = duration(problems, path, value, default);
    if d > MAX_BOOT_CACHE_MAX_AGE {
        problems.push(Problem::new(
            path,
            "must be at most 7d: it bounds how stale a secret may be after a reboot; \"15m\" is the default, \"0s\" always reads Vault at boot",
        ));
        return default;
    }
    d
}
