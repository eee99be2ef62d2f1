//! What every connection task shares: the hub, the pre-filter, the counters,
//! the peer policy, the limits and the rate-limited log lines; and what a
//! framed piece of input does to them.

use super::frame::Frame;
use super::ingest::{Conn, Hub, Offer};
use super::peer::PeerPolicy;
use super::prefilter::Prefilter;
use super::ratelog::RateLog;
use super::stats::ReaderCounters;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// What every connection task shares.
#[derive(Clone)]
pub(crate) struct Sink {
    pub hub: Arc<Hub>,
    pub prefilter: Arc<Prefilter>,
    pub counters: Arc<ReaderCounters>,
    pub policy: Arc<PeerPolicy>,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    pub logs: Arc<ListenerLogs>,
}

/// The listener's rate-limited log lines (at most one a minute each, with a count).
#[derive(Default)]
pub(crate) struct ListenerLogs {
    pub accept: RateLog,
    pub rejected: RateLog,
    pub limit: RateLog,
    pub idle: RateLog,
}

impl Sink {
    /// What partial lines beyond [`super::connection::FREE_PARTIAL`] may fill
    /// of the budget: all of it but room for every connection's read buffer
    /// and first `FREE_PARTIAL` bytes.
    pub(crate) fn partial_cap(&self) -> usize {
        self.hub.queued_cap()
    }

    /// Counts one frame and offers a complete line to the connection's lanes.
    pub(crate) fn frame(&self, conn: &Conn, f: Frame<'_>) {
        let c = &self.counters;
        match f {
            Frame::Line(l) => {
                c.lines.fetch_add(1, Ordering::Relaxed);
                let prio = self.prefilter.candidate(l.as_bytes());
                match self.hub.offer(conn, l, prio) {
                    Offer::Queued => {}
                    Offer::Spilled => {
                        c.spilled.fetch_add(1, Ordering::Relaxed);
                    }
                    Offer::Overload => {
                        c.overload.fetch_add(1, Ordering::Relaxed);
                    }
                    Offer::Lost => {
                        c.priority_lost.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Frame::TooLong => {
                c.too_long.fetch_add(1, Ordering::Relaxed);
            }
            Frame::InvalidUtf8 => {
                c.invalid_utf8.fetch_add(1, Ordering::Relaxed);
            }
            Frame::Empty => {
                c.empty.fetch_add(1, Ordering::Relaxed);
            }
            Frame::Partial => {
                c.partial.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
