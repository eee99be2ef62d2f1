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

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The global byte budget for buffers peers can fill.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Budget {
        Budget {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes `n` bytes if they fit.
    pub fn try_take(&self, n: usize) -> bool {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            if cur + n > self.limit {
                return false;
            }
            match self
                .used
                .compare_exchange_weak(cur, cur + n, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(c) => cur = c,
            }
        }
    }

    pub fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Where spilled priority lines go, and how much may go there.
#[derive(Debug)]
pub struct SpillArea {
    pub dir: PathBuf,
    pub limit: u64,
    pub used: AtomicU64,
}

/// An unlinked file holding one connection's spilled lines, in order.
struct SpillFile {
    file: File,
    write_at: u64,
    read_at: u64,
    lines: u64,
    rbuf: Vec<u8>,
}

impl SpillFile {
    fn push(&mut self, line: &str) -> std::io::Result<()> {
        let mut rec = Vec::with_capacity(line.len() + 1);
        rec.extend_from_slice(line.as_bytes());
        rec.push(b'\n');
        self.file.write_all_at(&rec, self.write_at)?;
        self.write_at += rec.len() as u64;
        self.lines += 1;
        Ok(())
    }

    fn pop(&mut self) -> std::io::Result<Option<String>> {
        if self.lines == 0 {
            return Ok(None);
        }
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.rbuf) {
                let line: Vec<u8> = self.rbuf.drain(..=i).take(i).collect();
                self.lines -= 1;
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            let mut chunk = vec![0u8; 64 << 10];
            let n = self.file.read_at(&mut chunk, self.read_at)?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "spill file shorter than written",
                ));
            }
            self.read_at += n as u64;
            self.rbuf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[derive(Default)]
struct Lanes {
    prio: VecDeque<Box<str>>,
    spill: Option<SpillFile>,
    ordinary: VecDeque<Box<str>>,
    ordinary_bytes: usize,
}

/// One accepted connection, shared by its reading task and the engine.
pub struct Conn {
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
}

/// What became of one offered line.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    Queued,
    Spilled,
    /// Ordinary line dropped: lanes full.
    Overload,
    /// Priority line lost: memory full and spill area full or failing.
    Lost,
}

/// Every connection's lanes and the engine's wake-up.
pub struct Hub {
    conns: Mutex<Vec<Arc<Conn>>>,
    next_id: AtomicU64,
    wake: (Mutex<bool>, Condvar),
    pub budget: Budget,
    /// Bytes of ordinary lines allowed to wait, across connections.
    pub queue_bytes: usize,
    ordinary_bytes: AtomicUsize,
    spill: SpillArea,
    start: std::time::Instant,
}

impl Hub {
    pub fn new(budget: usize, queue_bytes: usize, spill: SpillArea) -> Arc<Hub> {
        Arc::new(Hub {
            conns: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            wake: (Mutex::new(false), Condvar::new()),
            budget: Budget::new(budget),
            queue_bytes,
            ordinary_bytes: AtomicUsize::new(0),
            spill,
            start: std::time::Instant::now(),
        })
    }

    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn register(&self, peer: String) -> Arc<Conn> {
        let c = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            peer,
            lanes: Mutex::new(Lanes::default()),
            closed: AtomicBool::new(false),
            last_read_ms: AtomicU64::new(self.now_ms()),
            evict: tokio::sync::Notify::new(),
            evicted: AtomicBool::new(false),
        });
        self.conns.lock().unwrap().push(c.clone());
        c
    }

    /// Open connections (not yet closed by their reader).
    pub fn open(&self) -> usize {
        self.conns
            .lock()
            .unwrap()
            .iter()
            .filter(|c| !c.closed.load(Ordering::Relaxed))
            .count()
    }

    /// Asks the connection silent the longest (at least `min_silence_ms`) to
    /// close; false when every connection is busy.
    pub fn evict_most_silent(&self, min_silence_ms: u64) -> bool {
        let now = self.now_ms();
        let conns = self.conns.lock().unwrap();
        let victim = conns
            .iter()
            .filter(|c| !c.closed.load(Ordering::Relaxed) && !c.evicted.load(Ordering::Relaxed))
            .filter(|c| {
                now.saturating_sub(c.last_read_ms.load(Ordering::Relaxed)) >= min_silence_ms
            })
            .min_by_key(|c| c.last_read_ms.load(Ordering::Relaxed));
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
    pub fn offer(&self, conn: &Conn, line: &str, priority: bool) -> Offer {
        let len = line.len();
        let mut lanes = conn.lanes.lock().unwrap();
        let r = if priority {
            if lanes.spill.is_none() && self.budget.try_take(len) {
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
            let open = self.open_hint();
            let total = self.ordinary_bytes.load(Ordering::Relaxed);
            let fair = self.queue_bytes / open.max(1);
            let fits = total + len <= self.queue_bytes || lanes.ordinary_bytes + len <= fair;
            if fits && self.budget.try_take(len) {
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

    fn open_hint(&self) -> usize {
        self.conns.lock().unwrap().len()
    }

    fn spill_push(&self, lanes: &mut Lanes, line: &str) -> std::io::Result<()> {
        let need = line.len() as u64 + 1;
        let used = self.spill.used.fetch_add(need, Ordering::AcqRel);
        if used + need > self.spill.limit {
            self.spill.used.fetch_sub(need, Ordering::AcqRel);
            return Err(std::io::Error::other(format!(
                "the spill area is full (audit.spillBytes = {})",
                self.spill.limit
            )));
        }
        if lanes.spill.is_none() {
            let file = match tempfile::tempfile_in(&self.spill.dir) {
                Ok(f) => f,
                Err(e) => {
                    self.spill.used.fetch_sub(need, Ordering::AcqRel);
                    return Err(e);
                }
            };
            lanes.spill = Some(SpillFile {
                file,
                write_at: 0,
                read_at: 0,
                lines: 0,
                rbuf: Vec::new(),
            });
        }
        let r = lanes.spill.as_mut().unwrap().push(line);
        if r.is_err() {
            self.spill.used.fetch_sub(need, Ordering::AcqRel);
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
                    self.spill
                        .used
                        .fetch_sub(l.len() as u64 + 1, Ordering::AcqRel);
                    if s.lines == 0 {
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
    pub fn round(&self, out: &mut Vec<String>) {
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
    pub fn wait(&self, timeout: Duration) {
        let (m, cv) = &self.wake;
        let mut pending = m.lock().unwrap();
        if !*pending {
            pending = cv.wait_timeout(pending, timeout).unwrap().0;
        }
        *pending = false;
    }

    /// Wakes the engine (shutdown).
    pub fn kick(&self) {
        self.notify();
    }

    pub fn is_idle(&self) -> bool {
        self.conns.lock().unwrap().iter().all(|c| self.empty(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(budget: usize, queue: usize, spill_limit: u64, dir: &std::path::Path) -> Arc<Hub> {
        Hub::new(
            budget,
            queue,
            SpillArea {
                dir: dir.to_path_buf(),
                limit: spill_limit,
                used: AtomicU64::new(0),
            },
        )
    }

    #[test]
    fn rounds_are_fair_and_priority_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let h = hub(1 << 20, 1 << 20, 1 << 20, dir.path());
        let flood = h.register("flood".into());
        let vault = h.register("vault".into());
        for i in 0..1000 {
            assert_eq!(h.offer(&flood, &format!("junk{i}"), true), Offer::Queued);
        }
        h.offer(&vault, "ordinary", false);
        h.offer(&vault, "root-token-created", true);
        let mut out = Vec::new();
        h.round(&mut out);
        assert_eq!(out, ["junk0", "root-token-created"]);
        out.clear();
        h.round(&mut out);
        assert_eq!(out, ["junk1"]);
    }

    #[test]
    fn ordinary_lines_beyond_the_fair_share_are_overload_priority_spills() {
        let dir = tempfile::tempdir().unwrap();
        let h = hub(4096, 1024, 1 << 20, dir.path());
        let a = h.register("a".into());
        let b = h.register("b".into());
        let line = "x".repeat(100);
        let mut over = 0;
        for _ in 0..20 {
            if h.offer(&a, &line, false) == Offer::Overload {
                over += 1;
            }
        }
        assert_eq!(over, 10, "the queue holds 1024 bytes");
        // b still gets its fair share (512 bytes) although the queue is full.
        let mut ok = 0;
        for _ in 0..10 {
            if h.offer(&b, &line, false) == Offer::Queued {
                ok += 1;
            }
        }
        assert_eq!(ok, 5);
        // The budget (4096) is nearly used: priority lines spill to disk, in order.
        for i in 0..100 {
            let r = h.offer(&b, &format!("p{i:03}{line}"), true);
            assert!(matches!(r, Offer::Queued | Offer::Spilled), "{r:?}");
        }
        assert!(h.budget.used() <= 4096);
        let mut got = Vec::new();
        loop {
            let mut out = Vec::new();
            h.round(&mut out);
            if out.is_empty() {
                break;
            }
            got.extend(out);
        }
        let prio: Vec<&String> = got.iter().filter(|l| l.starts_with('p')).collect();
        assert_eq!(prio.len(), 100);
        for (i, p) in prio.iter().enumerate() {
            assert!(p.starts_with(&format!("p{i:03}")), "order kept: {p}");
        }
        assert_eq!(got.len(), 100 + 10 + 5);
        assert_eq!(h.budget.used(), 0);
        assert_eq!(h.spill.used.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_spill_area_loses_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let h = hub(4 << 10, 1024, 1 << 10, dir.path());
        let a = h.register("a".into());
        let line = "y".repeat(200);
        let rs: Vec<Offer> = (0..40).map(|_| h.offer(&a, &line, true)).collect();
        assert!(rs.contains(&Offer::Spilled));
        assert_eq!(
            rs.iter().filter(|r| **r == Offer::Lost).count(),
            40 - 20 - 5
        );
    }

    #[test]
    fn eviction_picks_the_most_silent_connection() {
        let dir = tempfile::tempdir().unwrap();
        let h = hub(1 << 20, 1 << 20, 1 << 20, dir.path());
        let a = h.register("a".into());
        let b = h.register("b".into());
        a.last_read_ms.store(0, Ordering::Relaxed);
        b.last_read_ms.store(5, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(20));
        assert!(h.evict_most_silent(1));
        assert!(a.evicted.load(Ordering::Relaxed));
        assert!(!b.evicted.load(Ordering::Relaxed));
        assert!(!h.evict_most_silent(60_000), "none silent for a minute");
    }
}
