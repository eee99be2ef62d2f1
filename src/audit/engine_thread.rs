//! The rule engine's own thread: takes lines from the hub in rounds, runs
//! the rules, ticks coalescing windows and the overload check every second,
//! queues alerts for Slack and publishes (and now and then saves) the counters.

use super::alert::Alert;
use super::engine_counts::EngineCounts;
use super::ingest::Hub;
use super::lost_lines::LostLines;
use super::rules::{Clock, Engine};
use super::slack::message;
use super::stats::{write_stats, ReaderCounters, StatsHandle, StatsSnapshot};
use crate::clock::now_ms;
use crate::slack::sender::SenderCounters;
use crate::slack::Outbox;
use crate::spec::audit::AuditSpec;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub(crate) struct EngineCtx {
    pub(crate) spec: AuditSpec,
    pub(crate) hub: Arc<Hub>,
    pub(crate) readers_done: Arc<AtomicBool>,
    pub(crate) counters: Arc<ReaderCounters>,
    pub(crate) sender: Arc<SenderCounters>,
    pub(crate) outbox: Option<Arc<Outbox>>,
    pub(crate) notify: Arc<Notify>,
    pub(crate) stats: StatsHandle,
    pub(crate) audit_dir: PathBuf,
    pub(crate) host: String,
}

impl EngineCtx {
    pub(crate) fn run(self) -> EngineCounts {
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
                engine.ingest(line, Clock::Given(now_ms()), &mut alerts);
            }
            if !alerts.is_empty() {
                self.deliver(&mut alerts);
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                let now = now_ms();
                let lost = self.counters.lost();
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
        let lost = self.counters.lost();
        engine.overloaded(lost.since(&lost_seen), now_ms(), &mut alerts);
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
                match o.push(&message(&a, &self.host)) {
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
        self.stats.set(snap.clone());
        if write {
            if let Err(e) = write_stats(&self.audit_dir, &snap) {
                tracing::warn!("cannot write audit stats: {e}");
            }
        }
    }
}
