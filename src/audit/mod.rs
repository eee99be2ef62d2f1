//! Security alerts from OpenBao's/Vault's socket audit device ("Vault AIDE").
//!
//! ```text
//!  OpenBao ──socket──▶ listener (peer check, task per connection, framing, limits)
//!                         │ pre-filter: security-relevant → priority lane (never
//!                         │ dropped, spills to disk); others → bounded lane
//!                         ▼
//!                      per-connection lanes ──round robin──▶ engine thread
//!                                              (parse, dedup, rules, coalesce)
//!                                              │ alerts
//!                                              ▼
//!                                   outbox (<stateDir>/audit/outbox, fsynced)
//!                                              │ in order, once
//!                                              ▼
//!                                   Slack sender (429 Retry-After, backoff)
//! ```
//!
//! [`serve`] runs all of it until its shutdown future completes; `vaultkeeper
//! audit listen` and the daemon call it. [`replay::replay`] runs the same rules
//! over a file. Counters are in [`StatsHandle`] and `<stateDir>/audit/stats.json`.

pub mod alert;
pub mod cli;
pub mod dedup;
pub mod engine_counts;
pub mod entry;
pub mod frame;
pub mod ingest;
pub mod listener;
pub mod peer;
pub mod prefilter;
pub mod ratelog;
pub mod redact;
pub mod replay;
pub mod rules;
pub mod slack;
pub mod spec;
pub mod stats;

pub use crate::spec::audit::{AuditSpec, Severity};
pub use alert::Alert;
pub use stats::StatsSnapshot;

use crate::render::atomic::{ensure_private_dir, replace_file, FsError};
use crate::slack::sender::{run_sender, SenderCounters};
use crate::slack::Outbox;
use rules::{Clock, Engine};
use stats::ReaderCounters;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Bind(#[from] listener::BindError),
    #[error(transparent)]
    Peer(#[from] peer::PeerError),
    #[error(
        "cannot prepare the spill directory {path}: {source} (check stateDir and its permissions)"
    )]
    Spill {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audit state directory: {0} (check stateDir and its permissions)")]
    State(#[from] FsError),
    #[error("the audit section has no listen address; add one to audit.listen")]
    NoListener,
    #[error("cannot start the audit rule engine thread: {0}")]
    Thread(std::io::Error),
}

/// The live counters of a running [`serve`], for the daemon and insights.
#[derive(Clone, Default)]
pub struct StatsHandle(Arc<Mutex<StatsSnapshot>>);

impl StatsHandle {
    pub fn snapshot(&self) -> StatsSnapshot {
        self.0.lock().unwrap().clone()
    }
}

/// Runs the listener, rules and Slack delivery until `shutdown` completes;
/// then stops accepting, drains what connections still send (briefly), flushes
/// coalesced summaries into the outbox, writes stats and returns them.
pub async fn serve(
    spec: &AuditSpec,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> Result<StatsSnapshot, AuditError> {
    serve_with_stats(spec, state_dir, shutdown, StatsHandle::default()).await
}

pub async fn serve_with_stats(
    spec: &AuditSpec,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
    stats: StatsHandle,
) -> Result<StatsSnapshot, AuditError> {
    if spec.listen.is_empty() {
        return Err(AuditError::NoListener);
    }
    let audit_dir = state_dir.join("audit");
    ensure_private_dir(&audit_dir, 0o700)?;
    if let Some(s) = &spec.slack {
        // Not fatal: the file may be a secret this agent renders a moment later.
        if let Err(e) = crate::slack::read_webhook_url(s) {
            tracing::warn!("{e}; alerts wait in the outbox until it can be read");
        }
    }
    let outbox = match &spec.slack {
        Some(_) => Some(Arc::new(Outbox::open(state_dir, "audit")?)),
        None => None,
    };
    let policy = Arc::new(peer::PeerPolicy::resolve(
        &spec.peer_users,
        &spec.allow_from,
    )?);
    let spill_dir = audit_dir.join("spill");
    ensure_private_dir(&spill_dir, 0o700)?;
    clear_spill_dir(&spill_dir).map_err(|source| AuditError::Spill {
        path: spill_dir.display().to_string(),
        source,
    })?;
    let bound = listener::bind(&spec.listen, spec.socket_group.as_deref()).await?;
    let unix_paths: Vec<PathBuf> = bound
        .iter()
        .filter_map(|b| match b {
            listener::Bound::Unix(_, p) => Some(p.clone()),
            _ => None,
        })
        .collect();

    let (stop_tx, stop_rx) = watch::channel(false);
    let (drain_tx, drain_rx) = watch::channel(false);
    let counters = Arc::new(ReaderCounters::default());
    let sender_counters = Arc::new(SenderCounters::default());
    let notify = Arc::new(Notify::new());
    let hub = ingest::Hub::new(
        spec.memory_budget,
        spec.queue_bytes,
        spec.max_connections * (listener::FREE_PARTIAL + listener::READ_BUF),
        ingest::SpillArea {
            dir: spill_dir,
            limit: spec.spill_bytes,
            used: AtomicU64::new(0),
        },
    );
    let readers_done = Arc::new(AtomicBool::new(false));

    let engine_thread = {
        let ctx = EngineCtx {
            spec: spec.clone(),
            hub: hub.clone(),
            readers_done: readers_done.clone(),
            counters: counters.clone(),
            sender: sender_counters.clone(),
            outbox: outbox.clone(),
            notify: notify.clone(),
            stats: stats.clone(),
            audit_dir: audit_dir.clone(),
            host: crate::slack::hostname(),
        };
        std::thread::Builder::new()
            .name("audit-rules".into())
            .spawn(move || ctx.run())
            .map_err(AuditError::Thread)?
    };

    let sender = match (outbox.clone(), spec.slack.clone()) {
        (Some(o), Some(s)) => Some(tokio::spawn(run_sender(
            o,
            s,
            notify.clone(),
            stop_rx.clone(),
            drain_rx,
            sender_counters.clone(),
        ))),
        _ => None,
    };

    let tasks = listener::tokio_util_lite::TaskSet::default();
    let sink = listener::Sink {
        hub: hub.clone(),
        prefilter: Arc::new(prefilter::Prefilter::new(
            spec.rules
                .values()
                .filter(|r| r.enabled)
                .filter_map(|r| r.custom.as_ref().map(|c| c.path.as_str())),
        )),
        counters: counters.clone(),
        policy,
        max_connections: spec.max_connections,
        idle_timeout: spec.idle_timeout,
        logs: Arc::default(),
    };
    let mut accepts = Vec::new();
    for b in bound {
        accepts.push(tokio::spawn(listener::accept_loop(
            b,
            sink.clone(),
            stop_rx.clone(),
            tasks.clone(),
        )));
    }
    drop(sink);
    tracing::info!(
        "audit listener ready on {}{}",
        spec.listen
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        if spec.slack.is_some() {
            "; alerts go to Slack"
        } else {
            "; no Slack configured, alerts are only logged"
        }
    );

    shutdown.await;
    tracing::info!("audit listener stopping: draining connections and the rule queue");
    let _ = stop_tx.send(true);
    for a in accepts {
        let _ = a.await;
    }
    tasks.join_all().await;
    // Every reader is gone now: the engine drains the lanes, flushes and exits.
    readers_done.store(true, Ordering::Release);
    hub.kick();
    let counts = tokio::task::spawn_blocking(move || engine_thread.join())
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or_default();
    // Deliver what the flush produced, briefly; whatever is left stays in the outbox.
    let _ = drain_tx.send(true);
    notify.notify_one();
    if let Some(mut s) = sender {
        let grace = spec
            .slack
            .as_ref()
            .map_or(Duration::from_secs(1), |s| s.timeout)
            + Duration::from_secs(2);
        if tokio::time::timeout(grace, &mut s).await.is_err() {
            s.abort();
            tracing::warn!("Slack did not take the remaining alerts in time; they stay in the outbox for the next start");
        }
    }
    for p in unix_paths {
        let _ = std::fs::remove_file(p);
    }
    let snapshot = StatsSnapshot::build(
        &counters,
        &counts,
        outbox.as_ref().map_or(0, |o| o.len() as u64),
        sender_counters.delivered.load(Ordering::Relaxed),
    );
    *stats.0.lock().unwrap() = snapshot.clone();
    if let Err(e) = write_stats(&audit_dir, &snapshot) {
        tracing::warn!("cannot write audit stats: {e}");
    }
    Ok(snapshot)
}

struct EngineCtx {
    spec: AuditSpec,
    hub: Arc<ingest::Hub>,
    readers_done: Arc<AtomicBool>,
    counters: Arc<ReaderCounters>,
    sender: Arc<SenderCounters>,
    outbox: Option<Arc<Outbox>>,
    notify: Arc<Notify>,
    stats: StatsHandle,
    audit_dir: PathBuf,
    host: String,
}

impl EngineCtx {
    fn run(self) -> engine_counts::EngineCounts {
        let mut engine = Engine::new(&self.spec);
        let mut alerts = Vec::new();
        let mut lost_seen = LostLines::default();
        let mut last_tick = Instant::now();
        let mut last_write = Instant::now();
        let mut batch = Vec::new();
        self.publish(&engine, true);
        loop {
            batch.clear();
            self.hub.round(&mut batch);
            if batch.is_empty() {
                if self.readers_done.load(Ordering::Acquire) && self.hub.is_idle() {
                    break;
                }
                self.hub.wait(Duration::from_millis(200));
            }
            for line in &batch {
                engine.ingest(line, Clock::Given(rules::now_ms()), &mut alerts);
            }
            if !alerts.is_empty() {
                self.deliver(&mut alerts);
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                let now = rules::now_ms();
                let lost = LostLines::read(&self.counters);
                engine.overloaded(lost.since(&lost_seen), now, &mut alerts);
                lost_seen = lost;
                engine.tick(now, &mut alerts);
                self.deliver(&mut alerts);
                let write = last_write.elapsed() >= self.spec.stats_interval;
                if write {
                    last_write = Instant::now();
                }
                self.publish(&engine, write);
            }
        }
        let lost = LostLines::read(&self.counters);
        engine.overloaded(lost.since(&lost_seen), rules::now_ms(), &mut alerts);
        engine.flush(&mut alerts);
        self.deliver(&mut alerts);
        engine.counts
    }

    fn deliver(&self, alerts: &mut Vec<Alert>) {
        for a in alerts.drain(..) {
            tracing::warn!(
                "ALERT [{}] {}: {}{} ({} {} by {:?} from {:?}, request {})",
                a.severity.as_str(),
                a.rule,
                a.title,
                if a.summary {
                    format!(" (x{} more, coalesced)", a.count)
                } else {
                    String::new()
                },
                a.operation,
                a.path,
                a.display_name,
                a.remote_address,
                a.request_id
            );
            if let Some(o) = &self.outbox {
                match o.push(&slack::message(&a, &self.host)) {
                    Ok(_) => self.notify.notify_one(),
                    Err(e) => tracing::error!("cannot queue alert {} for Slack: {e}", a.rule),
                }
            }
        }
    }

    fn publish(&self, engine: &Engine, write: bool) {
        let outbox = self.outbox.as_ref().map_or(0, |o| o.len() as u64);
        let snap = StatsSnapshot::build(
            &self.counters,
            &engine.counts,
            outbox,
            self.sender.delivered.load(Ordering::Relaxed),
        );
        *self.stats.0.lock().unwrap() = snap.clone();
        if write {
            if let Err(e) = write_stats(&self.audit_dir, &snap) {
                tracing::warn!("cannot write audit stats: {e}");
            }
        }
    }
}

/// Lines read from the Vault server's connections and never evaluated.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LostLines {
    /// Ordinary lines dropped (lanes full).
    pub overload: u64,
    /// Partial lines abandoned (memory budget used up).
    pub over_budget: u64,
    /// Security-relevant lines lost (memory and spill area full).
    pub priority: u64,
}

impl LostLines {
    fn read(c: &ReaderCounters) -> LostLines {
        LostLines {
            overload: c.overload.load(Ordering::Relaxed),
            over_budget: c.over_budget.load(Ordering::Relaxed),
            priority: c.priority_lost.load(Ordering::Relaxed),
        }
    }

    fn since(&self, before: &LostLines) -> LostLines {
        LostLines {
            overload: self.overload - before.overload,
            over_budget: self.over_budget - before.over_budget,
            priority: self.priority - before.priority,
        }
    }

    pub fn total(&self) -> u64 {
        self.overload + self.over_budget + self.priority
    }
}

/// Spill files are unlinked while in use; anything left in the directory
/// is from a crash of an older version and is removed (only regular files).
fn clear_spill_dir(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

fn write_stats(audit_dir: &Path, snap: &StatsSnapshot) -> Result<(), FsError> {
    let fd = ensure_private_dir(audit_dir, 0o700)?;
    let mut bytes = serde_json::to_vec_pretty(snap).expect("stats serialize");
    bytes.push(b'\n');
    replace_file(&fd, "stats.json", &bytes, 0o600, audit_dir)
}
