//! Fair ingestion: every connection has its own queues, the engine takes lines
//! from them in turn, so one connection's flood cannot push another's lines out.
//!
//! Each connection has two queues:
//! - the **priority lane** for lines the [`super::prefilter`] marks as
//!   security-relevant. It is never dropped: when the memory budget is used up
//!   its lines spill to an unlinked file under `<stateDir>/audit/spill`
//!   (bounded by `spillBytes`, beyond which a loss is counted and alerted);
//! - the **ordinary lane**, bounded: a line that finds the lanes full (its
//!   connection's fair share of `queueBytes`, or the global memory budget) is
//!   counted as overload.
//!
//! The engine takes one line per connection per round, priority lines first,
//! so the Vault server's lines wait at most one round behind any flood.
//! All memory that peers can make the agent hold (partial lines beyond a small
//! per-connection allowance, queued lines) is charged to one [`Budget`].

use super::budget::Budget;
use super::spill::{SpillArea, SpillFile};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Lanes {
    prio: VecDeque<Box<str>>,
    spill: Option<SpillFile>,
    ordinary: VecDeque<Box<str>>,
    ordinary_bytes: usize,
}

/// One accepted connection, shared by its reading task and the engine.
pub(crate) struct Conn {
    pub id: u64,
    /// Who it is, for logs: `uid 992` or `10.0.0.5:41230`.
    pub peer: String,
    lanes: Mutex<Lanes>,
    pub closed: AtomicBool,
    /// Milliseconds (monotonic, see [`Hub::now_ms`]) of the last byte read.
    pub last_read_ms: AtomicU64,
    /// Asked to close (evicted at the connection cap).
    pub evict: tokio::sync::Notify,
    pub evicted: AtomicBool,
    /// It has sent at least one complete line (OpenBao's connections have;
    /// idle or half-line junk has not, and is evicted first).
    pub delivered: AtomicBool,
}

/// What became of one offered line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    Queued,
    Spilled,
    /// Ordinary line dropped: lanes full.
    Overload,
    /// Priority line lost: memory full and spill area full or failing.
    Lost,
}

/// Every connection's lanes and the engine's wake-up.
pub(crate) struct Hub {
    conns: Mutex<Vec<Arc<Conn>>>,
    next_id: AtomicU64,
    wake: (Mutex<bool>, Condvar),
    pub budget: Budget,
    /// Budget bytes queued lines leave free (every connection's read buffer
    /// and first bytes of a partial line).
    pub reserve: usize,
    /// Bytes of ordinary lines allowed to wait, across connections.
    pub queue_bytes: usize,
    ordinary_bytes: AtomicUsize,
    spill: SpillArea,
    start: std::time::Instant,
}

impl Hub {
    pub(crate) fn new(
        budget: usize,
        queue_bytes: usize,
        reserve: usize,
        spill: SpillArea,
    ) -> Arc<Hub> {
        Arc::new(Hub {
            conns: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            wake: (Mutex::new(false), Condvar::new()),
            budget: Budget::new(budget),
            reserve,
            queue_bytes,
            ordinary_bytes: AtomicUsize::new(0),
            spill,
            start: std::time::Instant::now(),
        })
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub(crate) fn register(&self, peer: String) -> Arc<Conn> {
        let c = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            peer,
            lanes: Mutex::new(Lanes::default()),
            closed: AtomicBool::new(false),
            last_read_ms: AtomicU64::new(self.now_ms()),
            evict: tokio::sync::Notify::new(),
            evicted: AtomicBool::new(false),
            delivered: AtomicBool::new(false),
        });
        self.conns.lock().unwrap().push(c.clone());
        c
    }

    /// Open connections (not yet closed by their reader).
    pub(crate) fn open(&self) -> usize {
        self.conns
            .lock()
            .unwrap()
            .iter()
            .filter(|c| !c.closed.load(Ordering::Relaxed))
            .count()
    }

    /// Makes room at the connection cap: asks a connection that never sent
    /// a complete line and has been silent for `fresh_ms` to close, else one
    /// that did send lines (the Vault server's) but has been silent for
    /// `delivered_ms`; the most silent first. False when none qualifies.
    pub(crate) fn evict_most_silent(&self, fresh_ms: u64, delivered_ms: u64) -> bool {
        let now = self.now_ms();
        let conns = self.conns.lock().unwrap();
        let silence = |c: &Conn| now.saturating_sub(c.last_read_ms.load(Ordering::Relaxed));
        let open = || {
            conns
                .iter()
                .filter(|c| !c.closed.load(Ordering::Relaxed) && !c.evicted.load(Ordering::Relaxed))
        };
        let victim = open()
            .filter(|c| !c.delivered.load(Ordering::Relaxed) && silence(c) >= fresh_ms)
            .max_by_key(|c| silence(c))
            .or_else(|| {
                open()
                    .filter(|c| c.delivered.load(Ordering::Relaxed) && silence(c) >= delivered_ms)
                    .max_by_key(|c| silence(c))
            });
        match victim {
            Some(v) => {
                v.evicted.store(true, Ordering::Relaxed);
                v.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn notify(&self) {
        let (m, cv) = &self.wake;
        *m.lock().unwrap() = true;
        cv.notify_one();
    }

    /// Offers one complete line of `conn`.
    pub(crate) fn offer(&self, conn: &Conn, line: &str, priority: bool) -> Offer {
        conn.delivered.store(true, Ordering::Relaxed);
        let len = line.len();
        // Lock order: `conns` before any connection's `lanes` (as in `round`).
        let open = if priority { 0 } else { self.open_hint() };
        let mut lanes = conn.lanes.lock().unwrap();
        let r = if priority {
            if lanes.spill.is_none() && self.budget.try_take_within(len, self.queued_cap()) {
                lanes.prio.push_back(line.into());
                Offer::Queued
            } else {
                match self.spill_push(&mut lanes, line) {
                    Ok(()) => Offer::Spilled,
                    Err(e) => {
                        tracing::error!(
                            "audit: cannot spill a security-relevant line to {}: {e}; it is lost (see the file audit device)",
                            self.spill.dir.display()
                        );
                        Offer::Lost
                    }
                }
            }
        } else {
            let total = self.ordinary_bytes.load(Ordering::Relaxed);
            let fair = self.queue_bytes / open.max(1);
            let fits = total + len <= self.queue_bytes || lanes.ordinary_bytes + len <= fair;
            if fits && self.budget.try_take_within(len, self.queued_cap()) {
                lanes.ordinary.push_back(line.into());
                lanes.ordinary_bytes += len;
                self.ordinary_bytes.fetch_add(len, Ordering::Relaxed);
                Offer::Queued
            } else {
                Offer::Overload
            }
        };
        drop(lanes);
        if matches!(r, Offer::Queued | Offer::Spilled) {
            self.notify();
        }
        r
    }

    /// What queued lines may fill of the budget.
    pub(crate) fn queued_cap(&self) -> usize {
        self.budget.limit().saturating_sub(self.reserve)
    }

    fn open_hint(&self) -> usize {
        self.conns.lock().unwrap().len()
    }

    fn spill_push(&self, lanes: &mut Lanes, line: &str) -> std::io::Result<()> {
        let need = line.len() as u64 + 1;
        self.spill.reserve(need)?;
        if lanes.spill.is_none() {
            match self.spill.open_file() {
                Ok(f) => lanes.spill = Some(f),
                Err(e) => {
                    self.spill.release(need);
                    return Err(e);
                }
            }
        }
        let r = lanes.spill.as_mut().unwrap().push(line);
        if r.is_err() {
            self.spill.release(need);
        }
        r
    }

    /// One line from `conn`: priority (memory, then spill) before ordinary.
    fn take(&self, conn: &Conn, priority_only: bool) -> Option<String> {
        let mut lanes = conn.lanes.lock().unwrap();
        if let Some(l) = lanes.prio.pop_front() {
            self.budget.give(l.len());
            return Some(l.into());
        }
        if let Some(s) = lanes.spill.as_mut() {
            match s.pop() {
                Ok(Some(l)) => {
                    self.spill.release(l.len() as u64 + 1);
                    if s.is_empty() {
                        lanes.spill = None; // back to memory; the file goes with it
                    }
                    return Some(l);
                }
                Ok(None) => lanes.spill = None,
                Err(e) => {
                    tracing::error!(
                        "audit: cannot read back spilled lines of connection {}: {e}",
                        conn.id
                    );
                    lanes.spill = None;
                }
            }
        }
        if priority_only {
            return None;
        }
        let l = lanes.ordinary.pop_front()?;
        lanes.ordinary_bytes -= l.len();
        self.ordinary_bytes.fetch_sub(l.len(), Ordering::Relaxed);
        self.budget.give(l.len());
        Some(l.into())
    }

    fn empty(&self, conn: &Conn) -> bool {
        let lanes = conn.lanes.lock().unwrap();
        lanes.prio.is_empty() && lanes.spill.is_none() && lanes.ordinary.is_empty()
    }

    /// One round: a priority line from each connection that has one; when
    /// none has, an ordinary line from each. Forgets closed, drained connections.
    pub(crate) fn round(&self, out: &mut Vec<String>) {
        let conns: Vec<Arc<Conn>> = {
            let mut v = self.conns.lock().unwrap();
            v.retain(|c| !(c.closed.load(Ordering::Acquire) && self.empty(c)));
            v.clone()
        };
        for c in &conns {
            if let Some(l) = self.take(c, true) {
                out.push(l);
            }
        }
        if out.is_empty() {
            for c in &conns {
                if let Some(l) = self.take(c, false) {
                    out.push(l);
                }
            }
        }
    }

    /// Waits until a line is offered or `timeout` passes.
    pub(crate) fn wait(&self, timeout: Duration) {
        let (m, cv) = &self.wake;
        let mut pending = m.lock().unwrap();
        if !*pending {
            pending = cv.wait_timeout(pending, timeout).unwrap().0;
        }
        *pending = false;
    }

    /// Wakes the engine (shutdown).
    pub(crate) fn kick(&self) {
        self.notify();
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.conns.lock().unwrap().iter().all(|c| self.empty(c))
    }
}

#[cfg(test)]
mod tests;
