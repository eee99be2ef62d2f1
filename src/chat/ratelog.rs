//! Rate-limited logging of refused requests: a flood of forged or stale
//! requests must not flood the journal. At most [`PER_WINDOW`] lines per
//! [`WINDOW`]; the rest are counted and summed up in one line when the next
//! window logs something.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) const WINDOW: Duration = Duration::from_secs(60);
pub(crate) const PER_WINDOW: u32 = 5;

pub(crate) struct RateLog {
    state: Mutex<State>,
    window: Duration,
    per_window: u32,
}

struct State {
    start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

/// What the caller should log now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Permit {
    /// Lines suppressed in the previous window(s), to be mentioned once.
    pub suppressed_before: u64,
}

impl Default for RateLog {
    fn default() -> Self {
        RateLog::new(WINDOW, PER_WINDOW)
    }
}

impl RateLog {
    pub(crate) fn new(window: Duration, per_window: u32) -> RateLog {
        RateLog {
            state: Mutex::new(State {
                start: None,
                logged: 0,
                suppressed: 0,
            }),
            window,
            per_window,
        }
    }

    /// `Some` when this event may be logged.
    pub(crate) fn permit(&self, now: Instant) -> Option<Permit> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.start.is_none_or(|t| now.duration_since(t) >= self.window) {
            s.start = Some(now);
            s.logged = 0;
        }
        if s.logged < self.per_window {
            s.logged += 1;
            Some(Permit {
                suppressed_before: std::mem::take(&mut s.suppressed),
            })
        } else {
            s.suppressed += 1;
            None
        }
    }

    /// Logs `line` as a warning when the rate allows.
    pub(crate) fn warn(&self, line: impl FnOnce() -> String) {
        if let Some(p) = self.permit(Instant::now()) {
            if p.suppressed_before > 0 {
                tracing::warn!(
                    "chat: {} more refused request(s) were not logged (at most {} lines a minute)",
                    p.suppressed_before,
                    self.per_window
                );
            }
            tracing::warn!("{}", line());
        }
    }

    /// Logs `line` as an error when the rate allows.
    pub(crate) fn error(&self, line: impl FnOnce() -> String) {
        if let Some(p) = self.permit(Instant::now()) {
            if p.suppressed_before > 0 {
                tracing::warn!(
                    "chat: {} more line(s) like the next were not logged (at most {} a minute)",
                    p.suppressed_before,
                    self.per_window
                );
            }
            tracing::error!("{}", line());
        }
    }
}

#[cfg(test)]
mod tests;
