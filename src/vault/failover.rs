//! Several Vault addresses (`vault.address` as a list: the nodes of one raft
//! cluster) and which one a request goes to.
//!
//! - **Order:** every host tries the addresses in the listed order rotated by a
//!   stable hash of its host name ([`host_order`]), so a fleet spreads its
//!   requests over the nodes instead of all hammering the first one. The first
//!   address of that order is the host's *preferred* one.
//! - **Failover:** a request that gets no HTTP answer (connection refused or
//!   reset, timeout), a 5xx, or a standby's or rate limiter's 429/503 is sent to
//!   the next address ([`fails_over`]). Any other answer (2xx, 403, 404, 400, a
//!   TLS certificate that does not verify, a refused redirect, an oversized body)
//!   is final: another node of the same cluster would say the same, and a TLS
//!   failure may be an attack that must be seen, not routed around.
//! - **Memory:** the address that answered is used first by the next requests
//!   (one process-wide [`Endpoints`] shared by every clone of the client), so a
//!   dead node costs one failed connection, not one per request.
//! - **Failback:** `vault.failback` (default [`FAILBACK_AFTER`], 10 min) after
//!   moving off the preferred address,
//!   the next request tries the preferred one first again (the fleet spreads
//!   again once a node is back).
//! - **Election window:** when every address failed but at least one *answered*
//!   (a standby saying 5xx/503/429, or redirecting to the leader that just died,
//!   while the cluster elects a new leader), the
//!   request goes round the list again after a short pause, until
//!   `vault.timeout` has passed since it started. When no address answers at
//!   all, the request fails at once (the caller serves from the cache, as with
//!   one address).
//!
//! Per address, the last outcome, when, and the last error (a Vault error
//! message or a transport error, never a body or a secret) are kept for
//! `vaultkeeper status` ([`Endpoints::snapshot`], recorded in
//! `<stateDir>/vault-addresses.json` by `fetch` and the daemon).

use crate::metrics::Outcome;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The pause before going round the addresses again while a cluster elects.
pub(crate) const ROUND_PAUSE: Duration = Duration::from_millis(250);

/// The addresses in the order `host` tries them: the listed order rotated by a
/// stable hash (SHA-256, not the standard library's hasher, whose output may
/// change between Rust versions) of the host name.
pub fn host_order(addresses: &[String], host: &str) -> Vec<String> {
    if addresses.is_empty() {
        return Vec::new();
    }
    let digest = Sha256::digest(host.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let shift = (u64::from_be_bytes(first) % addresses.len() as u64) as usize;
    let mut out = addresses.to_vec();
    out.rotate_left(shift);
    out
}

/// True when this outcome sends the request to the next address.
pub(crate) fn fails_over(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::ConnectionError
            | Outcome::Timeout
            | Outcome::ServerError
            | Outcome::Unavailable
            | Outcome::RateLimited
    )
}

/// One address's last state, as `status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AddressState {
    pub address: String,
    /// First in this host's order.
    pub preferred: bool,
    /// The address requests go to first now (the last one that answered).
    pub in_use: bool,
    /// `vaultkeeper_vault_requests_total`'s outcome label of the last request.
    pub last_outcome: Option<String>,
    /// Unix seconds of the last request.
    pub last_at: Option<u64>,
    /// Unix seconds of the last request that got an answer that is not a failover.
    pub last_ok_at: Option<u64>,
    /// Why the last failed request failed (never a body or a value).
    pub last_error: Option<String>,
}

struct Inner {
    /// Index (into `order`) tried first.
    current: usize,
    /// When `current` moved off the preferred address.
    moved_at: Option<Instant>,
    states: Vec<AddressState>,
}

/// The addresses of one Vault cluster in this host's order, and which to try.
pub(crate) struct Endpoints {
    order: Vec<Arc<str>>,
    failback_after: Duration,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("order", &self.order)
            .finish()
    }
}

impl Endpoints {
    pub(crate) fn with_failback(
        addresses: &[String],
        host: &str,
        failback_after: Duration,
    ) -> Endpoints {
        let order = host_order(addresses, host);
        let states = order
            .iter()
            .enumerate()
            .map(|(i, a)| AddressState {
                address: a.clone(),
                preferred: i == 0,
                in_use: i == 0,
                ..AddressState::default()
            })
            .collect();
        Endpoints {
            order: order.iter().map(|a| Arc::from(a.as_str())).collect(),
            failback_after,
            inner: Mutex::new(Inner {
                current: 0,
                moved_at: None,
                states,
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// The addresses in this host's order.
    pub(crate) fn order(&self) -> &[Arc<str>] {
        &self.order
    }

    /// The address requests go to first now.
    pub(crate) fn current(&self) -> Arc<str> {
        let i = self.inner().current;
        self.order[i].clone()
    }

    /// The order one request tries the addresses in: the current one, then the
    /// others in host order after it. Past the failback time, the preferred one
    /// leads again.
    pub(crate) fn plan(&self) -> Vec<usize> {
        self.plan_at(Instant::now())
    }

    fn plan_at(&self, now: Instant) -> Vec<usize> {
        let n = self.order.len();
        let mut st = self.inner();
        if st.current != 0
            && st
                .moved_at
                .is_some_and(|t| now.duration_since(t) >= self.failback_after)
        {
            tracing::info!(
                address = %self.order[0],
                "trying the preferred Vault address again"
            );
            st.current = 0;
            st.moved_at = None;
            for (i, s) in st.states.iter_mut().enumerate() {
                s.in_use = i == 0;
            }
        }
        (0..n).map(|k| (st.current + k) % n).collect()
    }

    /// Records one attempt at address `i` (and counts it in
    /// `vaultkeeper_vault_requests_total`). `error` says why it failed.
    pub(crate) fn record(&self, i: usize, outcome: Outcome, error: Option<&str>) {
        self.record_at(i, outcome, error, Instant::now());
    }

    fn record_at(&self, i: usize, outcome: Outcome, error: Option<&str>, now: Instant) {
        crate::metrics::global().vault_request(&self.order[i], outcome);
        let unix = crate::clock::now_unix();
        let mut st = self.inner();
        let s = &mut st.states[i];
        s.last_outcome = Some(outcome.label().to_string());
        s.last_at = Some(unix);
        if fails_over(outcome) {
            s.last_error = error.map(str::to_string);
            return;
        }
        if outcome == Outcome::Redirect {
            return;
        }
        s.last_ok_at = Some(unix);
        s.last_error = None;
        if st.current != i {
            tracing::info!(
                address = %self.order[i],
                previous = %self.order[st.current],
                "Vault answered at another address; using it from now on"
            );
            st.current = i;
            st.moved_at = if i == 0 { None } else { Some(now) };
            for (k, s) in st.states.iter_mut().enumerate() {
                s.in_use = k == i;
            }
        }
    }

    /// Every address's last state, in this host's order.
    pub(crate) fn snapshot(&self) -> Vec<AddressState> {
        self.inner().states.clone()
    }
}

/// `<stateDir>/vault-addresses.json`: the agent's (`fetch`, the daemon) last
/// view of every address, for `vaultkeeper status`.
pub(crate) const RECORD_FILE: &str = "vault-addresses.json";

/// A record larger than this is not read (16 addresses take about 6 KiB).
const MAX_RECORD: u64 = 64 * 1024;

/// Records `states` (best effort, like the other status records: logged, never fatal).
pub(crate) fn save(state_dir: &Path, states: &[AddressState]) {
    let volatile = crate::fs::Durability::Volatile;
    if let Err(e) = crate::fs::save_record(state_dir, state_dir, RECORD_FILE, &states, volatile) {
        tracing::warn!(error = %e, "cannot record the Vault addresses' state");
    }
}

/// The recorded states; empty when there is no record, or it is not a regular
/// file of at most 64 KiB holding that JSON (a symlink is not followed).
pub(crate) fn load(state_dir: &Path) -> Vec<AddressState> {
    crate::fs::load_record_capped(state_dir, RECORD_FILE, MAX_RECORD).unwrap_or_default()
}

/// What `status` shows per address: this command's own observations (`mine`,
/// which say which address answered it) and, where newer, the agent's
/// `recorded` ones. Addresses no longer in the spec are dropped.
pub(crate) fn merged(mine: &[AddressState], recorded: &[AddressState]) -> Vec<AddressState> {
    mine.iter()
        .map(|m| {
            let r = recorded.iter().find(|r| r.address == m.address);
            let mut out = match r {
                Some(r) if r.last_at > m.last_at => AddressState {
                    preferred: m.preferred,
                    in_use: m.in_use,
                    ..r.clone()
                },
                _ => m.clone(),
            };
            out.last_ok_at = out.last_ok_at.max(r.and_then(|r| r.last_ok_at));
            out
        })
        .collect()
}

/// Saves `states` to `<stateDir>` when they changed in what `status` shows
/// (not only in their times), or at most once a minute otherwise.
#[derive(Default)]
pub(crate) struct Recorder {
    last: Option<(Vec<AddressState>, Instant)>,
}

impl Recorder {
    pub(crate) fn record(&mut self, state_dir: &Path, endpoints: &Endpoints) {
        let now = endpoints.snapshot();
        let key = |v: &[AddressState]| {
            v.iter()
                .map(|s| (s.in_use, s.last_outcome.clone(), s.last_error.clone()))
                .collect::<Vec<_>>()
        };
        let due = match &self.last {
            None => true,
            Some((prev, at)) => key(prev) != key(&now) || at.elapsed() >= Duration::from_secs(60),
        };
        if due {
            save(state_dir, &now);
            self.last = Some((now, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests;
