//! Counters: what the listener read and dropped (atomics, shared by every
//! connection), what the engine saw and raised. [`StatsSnapshot`] is what
//! insights reports read, from memory or from `<stateDir>/audit/stats.json`.

use super::engine_counts::EngineCounts;
use super::lost_lines::LostLines;
use crate::fs::{ensure_private_dir, replace_file, FsError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// `Type { field: counters.field (loaded), ..., other: value }`: a snapshot
/// struct whose fields are named as the [`ReaderCounters`] they copy.
macro_rules! loaded {
    ($c:expr, $t:ident { $($f:ident),* } $(; $($k:ident: $v:expr),*)?) => {
        $t { $($f: $c.$f.load(Ordering::Relaxed),)* $($($k: $v,)*)? }
    };
}

/// Counted by the listener, lock-free.
#[derive(Debug, Default)]
pub struct ReaderCounters {
    pub connections: AtomicU64,
    pub open_connections: AtomicU64,
    pub bytes: AtomicU64,
    pub lines: AtomicU64,
    pub too_long: AtomicU64,
    pub invalid_utf8: AtomicU64,
    pub partial: AtomicU64,
    pub empty: AtomicU64,
    pub overload: AtomicU64,
    /// Partial lines abandoned because the memory budget was used up.
    pub over_budget: AtomicU64,
    /// Security-relevant lines written to the spill file (memory full).
    pub spilled: AtomicU64,
    /// Security-relevant lines lost (memory and spill area full).
    pub priority_lost: AtomicU64,
    /// Connections refused: peer not allowed.
    pub rejected_peer: AtomicU64,
    /// Connections refused: at `maxConnections` with every connection busy.
    pub rejected_limit: AtomicU64,
    /// Connections closed to make room at `maxConnections`.
    pub evicted: AtomicU64,
    /// Connections closed after `idleTimeout` of silence after a partial line.
    pub idle_closed: AtomicU64,
    pub accept_errors: AtomicU64,
}

impl ReaderCounters {
    /// Lines read and never evaluated, so far.
    pub(crate) fn lost(&self) -> LostLines {
        LostLines {
            overload: self.overload.load(Ordering::Relaxed),
            over_budget: self.over_budget.load(Ordering::Relaxed),
            priority: self.priority_lost.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Dropped {
    pub too_long: u64,
    pub invalid_utf8: u64,
    pub partial: u64,
    pub empty: u64,
    pub not_json: u64,
    pub duplicate: u64,
    pub overload: u64,
    pub over_budget: u64,
    pub priority_lost: u64,
}

/// What the listener did with connections.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ConnectionCounts {
    pub rejected_peer: u64,
    pub rejected_limit: u64,
    pub evicted: u64,
    pub idle_closed: u64,
    pub accept_errors: u64,
}

/// The counters as `<stateDir>/audit/stats.json` holds them (snake_case keys);
/// also what `report usage` shows. Missing keys read as zero.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct StatsSnapshot {
    /// When the snapshot was taken (RFC 3339).
    pub time: String,
    pub connections: u64,
    pub open_connections: u64,
    pub bytes_read: u64,
    pub lines_read: u64,
    pub dropped: Dropped,
    pub refused: ConnectionCounts,
    /// Security-relevant lines that went through the spill file.
    pub spilled: u64,
    pub entries: u64,
    pub alerts: BTreeMap<String, u64>,
    pub requests_by_type: BTreeMap<String, u64>,
    pub requests_by_operation: BTreeMap<String, u64>,
    pub requests_by_path_prefix: BTreeMap<String, u64>,
    pub requests_by_auth_method: BTreeMap<String, u64>,
    /// Alerts waiting in the outbox for Slack.
    pub outbox: u64,
    pub delivered: u64,
}

impl StatsSnapshot {
    /// The listener's last snapshot in `<state_dir>/audit/stats.json`;
    /// `Ok(None)` when there is none (the listener never ran here).
    pub fn read(state_dir: &std::path::Path) -> Result<Option<StatsSnapshot>, String> {
        let path = state_dir.join("audit/stats.json");
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
                format!(
                    "{} is not audit statistics (line {} column {}); the audit listener rewrites it",
                    path.display(),
                    e.line(),
                    e.column()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn build(
        r: &ReaderCounters,
        e: &EngineCounts,
        outbox: u64,
        delivered: u64,
    ) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let requests = &e.requests;
        StatsSnapshot {
            time: crate::clock::rfc3339_ms(crate::clock::now_ms()),
            connections: g(&r.connections),
            open_connections: g(&r.open_connections),
            bytes_read: g(&r.bytes),
            lines_read: g(&r.lines),
            dropped: loaded!(r, Dropped { too_long, invalid_utf8, partial, empty, overload, over_budget, priority_lost }; not_json: e.not_json, duplicate: e.duplicates),
            refused: loaded!(
                r,
                ConnectionCounts {
                    rejected_peer,
                    rejected_limit,
                    evicted,
                    idle_closed,
                    accept_errors
                }
            ),
            spilled: g(&r.spilled),
            entries: e.entries,
            alerts: e.alerts.clone(),
            requests_by_type: requests.by_type.clone(),
            requests_by_operation: requests.by_operation.clone(),
            requests_by_path_prefix: requests.by_path_prefix.clone(),
            requests_by_auth_method: requests.by_auth_method.clone(),
            outbox,
            delivered,
        }
    }
}

/// The live counters of a running [`super::serve`], for the daemon and insights.
#[derive(Clone, Default)]
pub struct StatsHandle(Arc<Mutex<StatsSnapshot>>);

impl StatsHandle {
    /// A copy of the counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.0.lock().unwrap().clone()
    }

    /// Replaces what [`Self::snapshot`] returns.
    pub(crate) fn set(&self, snap: StatsSnapshot) {
        *self.0.lock().unwrap() = snap;
    }
}

/// Saves `<stateDir>/audit/stats.json` (atomically, mode 0600).
pub(crate) fn write_stats(audit_dir: &Path, snap: &StatsSnapshot) -> Result<(), FsError> {
    let fd = ensure_private_dir(audit_dir, 0o700)?;
    let mut bytes = serde_json::to_vec_pretty(snap).expect("stats serialize");
    bytes.push(b'\n');
    replace_file(&fd, "stats.json", &bytes, 0o600, audit_dir)
}
