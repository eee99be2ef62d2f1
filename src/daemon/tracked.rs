//! What the daemon knows about each secret ([`Tracked`], its [`Health`]),
//! the result of one check ([`Check`]), and the adoption of what the boot
//! units rendered moments before the daemon started ([`adopt_boot_fetch`]).

use crate::backoff::Backoff;
use crate::fetch::Outcome;
use crate::spec::{KvVersion, SecretSpec};
use crate::state;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Health {
    Pending,
    Fresh,
    /// Rendered at boot from the cache Vault confirmed within
    /// `bootCacheMaxAge` ([`crate::boot_cache`]), not checked with Vault since.
    BootCache,
    FromCache,
    Failed,
}

/// What a check found, as far as a secret's [`Health`] is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// Vault confirmed the version on disk (metadata check).
    Same,
    /// Vault could not be asked (an outage, or no token).
    Unreachable,
    /// Rendered from Vault's answer, or (`boot_cache`) adopted from the cache
    /// the boot unit rendered without Vault.
    Fresh { boot_cache: bool },
    /// Rendered from the last-known-good cache because Vault cannot answer.
    FromCache,
    /// The check failed (denied, not found, render error...).
    Failed,
}

/// The health after a check: pure, so every transition has its unit test.
/// A secret that was serving current data (fresh, or from the boot cache) and
/// cannot be checked is now served from the cache; one that was never rendered,
/// already from the cache or failed stays as it was.
pub(super) fn next_health(old: Health, seen: Seen) -> Health {
    match seen {
        Seen::Same => Health::Fresh,
        Seen::Unreachable if serving(old) => Health::FromCache,
        Seen::Unreachable => old,
        Seen::Fresh { boot_cache: true } => Health::BootCache,
        Seen::Fresh { boot_cache: false } => Health::Fresh,
        Seen::FromCache => Health::FromCache,
        Seen::Failed => Health::Failed,
    }
}

/// Serving current data: fresh from Vault, or the boot cache not yet checked.
pub(super) fn serving(h: Health) -> bool {
    matches!(h, Health::Fresh | Health::BootCache)
}

/// What the daemon knows about one secret.
#[derive(Debug)]
pub(super) struct Tracked {
    pub(super) next_check: Instant,
    /// KV v2 version of the data on disk.
    pub(super) version: Option<u64>,
    /// The policy refuses the metadata endpoint: always read in full.
    pub(super) metadata_denied: bool,
    pub(super) health: Health,
    pub(super) backoff: Backoff,
    pub(super) verify_at: Option<Instant>,
    /// Taken over from the boot unit's fetch ([`adopt_boot_fetch`]) and not
    /// checked since: the first login does not check it at once.
    pub(super) adopted: bool,
    /// `Some(confirmed unix time)`: the boot unit rendered it from its confirmed
    /// cache without Vault; the first check is at a random time within the
    /// first refresh interval.
    pub(super) boot_cache: Option<u64>,
}

impl Tracked {
    pub(super) fn new() -> Tracked {
        Tracked {
            next_check: Instant::now(),
            version: None,
            metadata_denied: false,
            health: Health::Pending,
            backoff: Backoff::vault(),
            verify_at: None,
            adopted: false,
            boot_cache: None,
        }
    }
}

/// At the daemon's start, a KV v2 secret that `vaultkeeper fetch` (its boot
/// unit) rendered from Vault less than one refresh interval ago, without error,
/// is not read again: the daemon's first pass renders it from the cache the
/// unit just wrote, under the daemon's own spec (a changed mode, owner or key
/// list is applied, with its restarts, exactly as after a read), and asks
/// Vault for the version (a metadata read) at its first jittered refresh. A
/// fleet-wide reboot so costs each host one full read per secret, not two
/// (docs/benchmarks.md). Anything that cannot be rendered from the cache is
/// read from Vault at once.
pub(super) fn adopt_boot_fetch(
    secret: &SecretSpec,
    state_dir: &std::path::Path,
) -> Option<Tracked> {
    if secret.kv_version != KvVersion::V2 {
        return None;
    }
    let st = state::load(state_dir, &secret.name);
    if st.from_cache_since.is_some() || st.last_error.is_some() {
        return None;
    }
    let now = crate::clock::now_unix();
    let recent = |t: u64| {
        now.checked_sub(t)
            .filter(|age| *age < secret.refresh_interval.as_secs())
    };
    let boot_cache = st
        .boot_cache_since
        .and_then(recent)
        .zip(st.confirmed.as_ref());
    let (age, first_check, boot_cache, what) = match boot_cache {
        // Rendered by the boot unit from the cache Vault confirmed within
        // bootCacheMaxAge: adopted like a boot fetch; the first check (a
        // metadata read) comes at a random time within the first interval.
        Some((age, c)) => (
            age,
            secret.refresh_interval.mul_f64(rand::random::<f64>()),
            Some(c.at),
            "rendered at boot from its confirmed cache: checked within the first refresh interval",
        ),
        None => (
            recent(st.last_fetch?)?,
            secret.refresh_interval,
            None,
            "fetched by its boot unit moments ago: rendered from its cache, checked at the next refresh",
        ),
    };
    let version = st.version?;
    tracing::debug!(secret = %secret.name, version, age_s = age, "{what}");
    Some(Tracked {
        next_check: Instant::now() + first_check,
        version: Some(version),
        adopted: true,
        boot_cache,
        ..Tracked::new()
    })
}

/// The result of checking one secret.
pub(super) enum Check {
    /// The metadata says the version on disk is current.
    Same,
    /// A full read was done (`bool`: the metadata endpoint was denied).
    Full(Outcome, bool),
    Unreachable(String),
}

#[cfg(test)]
mod tests;
