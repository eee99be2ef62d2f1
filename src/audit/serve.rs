//! [`serve`]: the listener, the rule engine thread and Slack delivery, from
//! start (state directories, sockets bound first) to an orderly stop (stop
//! accepting, drain connections briefly, flush the engine, deliver briefly,
//! save the counters).

use super::bind::{bind, Bound};
use super::connection::{FREE_PARTIAL, READ_BUF};
use super::engine_thread::EngineCtx;
use super::error::AuditError;
use super::ingest::Hub;
use super::listener::accept_loop;
use super::peer::PeerPolicy;
use super::prefilter::Prefilter;
use super::sink::Sink;
use super::spill::{clear_spill_dir, SpillArea};
use super::stats::{write_stats, ReaderCounters, StatsHandle, StatsSnapshot};
use crate::fs::ensure_private_dir;
use crate::slack::sender::{run_sender, SenderCounters};
use crate::slack::Outbox;
use crate::spec::audit::AuditSpec;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Runs the listener, rules and Slack delivery until `shutdown` completes;
/// then stops accepting, drains what connections still send (briefly), flushes
/// coalesced summaries into the outbox, writes stats and returns them.
pub(crate) async fn serve(
    spec: &AuditSpec,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> Result<StatsSnapshot, AuditError> {
    serve_with_stats(spec, state_dir, shutdown, StatsHandle::default()).await
}

/// [`serve`], publishing the live counters in `stats` as it runs.
pub async fn serve_with_stats(
    spec: &AuditSpec,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
    stats: StatsHandle,
) -> Result<StatsSnapshot, AuditError> {
    if spec.listen.is_empty() {
        return Err(AuditError::NoListener);
    }
    let (audit_dir, outbox) = prepare(spec, state_dir)?;
    let policy = Arc::new(PeerPolicy::resolve(&spec.peer_users, &spec.allow_from)?);
    let spill_dir = spill_dir(&audit_dir)?;
    let dirs = Dirs {
        audit_dir,
        spill_dir,
        outbox,
    };
    let bound = bind(&spec.listen, spec.socket_group.as_deref()).await?;
    let unix_paths: Vec<PathBuf> = bound
        .iter()
        .filter_map(|b| match b {
            Bound::Unix(_, p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let running = start(spec, dirs, bound, policy, stats)?;
    log_ready(spec);
    shutdown.await;
    tracing::info!("audit listener stopping: draining connections and the rule queue");
    Ok(running.stop(spec, unix_paths).await)
}

/// The directories and the outbox a run needs.
struct Dirs {
    audit_dir: PathBuf,
    spill_dir: PathBuf,
    outbox: Option<Arc<Outbox>>,
}

/// `<stateDir>/audit` (private) and the Slack outbox when there is a webhook.
fn prepare(
    spec: &AuditSpec,
    state_dir: &Path,
) -> Result<(PathBuf, Option<Arc<Outbox>>), AuditError> {
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
    Ok((audit_dir, outbox))
}

/// `<audit_dir>/spill`, private and emptied of what a crash left.
fn spill_dir(audit_dir: &Path) -> Result<PathBuf, AuditError> {
    let spill_dir = audit_dir.join("spill");
    ensure_private_dir(&spill_dir, 0o700)?;
    clear_spill_dir(&spill_dir).map_err(|source| AuditError::Spill {
        path: spill_dir.display().to_string(),
        source,
    })?;
    Ok(spill_dir)
}

/// Everything a running listener holds until it stops.
struct Running {
    /// Cancelled when shutdown begins (also if the run is dropped).
    stop: CancellationToken,
    _stop_on_drop: tokio_util::sync::DropGuard,
    /// Cancelled once the engine has flushed: the sender delivers what is left.
    drain: CancellationToken,
    accepts: Vec<JoinHandle<()>>,
    connections: TaskTracker,
    readers_done: Arc<AtomicBool>,
    hub: Arc<Hub>,
    engine_thread: std::thread::JoinHandle<super::engine_counts::EngineCounts>,
    notify: Arc<Notify>,
    sender: Option<JoinHandle<()>>,
    counters: Arc<ReaderCounters>,
    sender_counters: Arc<SenderCounters>,
    outbox: Option<Arc<Outbox>>,
    stats: StatsHandle,
    audit_dir: PathBuf,
}

/// Starts the engine thread, the Slack sender and one accept loop per socket.
fn start(
    spec: &AuditSpec,
    dirs: Dirs,
    bound: Vec<Bound>,
    policy: Arc<PeerPolicy>,
    stats: StatsHandle,
) -> Result<Running, AuditError> {
    let stop = CancellationToken::new();
    let drain = CancellationToken::new();
    let counters = Arc::new(ReaderCounters::default());
    let sender_counters = Arc::new(SenderCounters::default());
    let notify = Arc::new(Notify::new());
    let hub = Hub::new(
        spec.memory_budget,
        spec.queue_bytes,
        spec.max_connections * (FREE_PARTIAL + READ_BUF),
        SpillArea {
            dir: dirs.spill_dir,
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
            outbox: dirs.outbox.clone(),
            notify: notify.clone(),
            stats: stats.clone(),
            audit_dir: dirs.audit_dir.clone(),
            host: crate::host::hostname(),
        };
        std::thread::Builder::new()
            .name("audit-rules".into())
            .spawn(move || ctx.run())
            .map_err(AuditError::Thread)?
    };
    let sender = match (dirs.outbox.clone(), spec.slack.clone()) {
        (Some(o), Some(s)) => Some(tokio::spawn(run_sender(
            o,
            s,
            notify.clone(),
            stop.clone(),
            drain.clone(),
            sender_counters.clone(),
        ))),
        _ => None,
    };
    let connections = TaskTracker::new();
    let sink = Sink {
        hub: hub.clone(),
        prefilter: Arc::new(Prefilter::new(
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
    let accepts = bound
        .into_iter()
        .map(|b| {
            tokio::spawn(accept_loop(
                b,
                sink.clone(),
                stop.clone(),
                connections.clone(),
            ))
        })
        .collect();
    Ok(Running {
        _stop_on_drop: stop.clone().drop_guard(),
        stop,
        drain,
        accepts,
        connections,
        readers_done,
        hub,
        engine_thread,
        notify,
        sender,
        counters,
        sender_counters,
        outbox: dirs.outbox,
        stats,
        audit_dir: dirs.audit_dir,
    })
}

fn log_ready(spec: &AuditSpec) {
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
}

impl Running {
    /// Stops accepting, waits for the readers, lets the engine drain and
    /// flush, gives the sender a moment, and saves the final counters.
    async fn stop(self, spec: &AuditSpec, unix_paths: Vec<PathBuf>) -> StatsSnapshot {
        self.stop.cancel();
        for a in self.accepts {
            let _ = a.await;
        }
        self.connections.close();
        self.connections.wait().await;
        // Every reader is gone now: the engine drains the lanes, flushes and exits.
        self.readers_done.store(true, Ordering::Release);
        self.hub.kick();
        let engine_thread = self.engine_thread;
        let counts = tokio::task::spawn_blocking(move || engine_thread.join())
            .await
            .ok()
            .and_then(|r| r.ok())
            .unwrap_or_default();
        // Deliver what the flush produced, briefly; whatever is left stays in the outbox.
        self.drain.cancel();
        self.notify.notify_one();
        if let Some(mut s) = self.sender {
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
            &self.counters,
            &counts,
            self.outbox.as_ref().map_or(0, |o| o.len() as u64),
            self.sender_counters.delivered.load(Ordering::Relaxed),
        );
        self.stats.set(snapshot.clone());
        if let Err(e) = write_stats(&self.audit_dir, &snapshot) {
            tracing::warn!("cannot write audit stats: {e}");
        }
        snapshot
    }
}
