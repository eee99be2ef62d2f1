//! Log lines that a peer could otherwise repeat without end (accept errors,
//! refused connections): at most one per interval, carrying how many were
//! held back since the last one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The interval between two lines of one [`RateLog`].
pub(crate) const INTERVAL: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(crate) struct RateLog {
    state: Mutex<(Option<Instant>, u64)>,
}

impl RateLog {
    /// Logs `msg` at WARN unless a line went out within [`INTERVAL`]; returns
    /// whether it did.
    pub(crate) fn warn(&self, msg: &str) -> bool {
        match self.admit(Instant::now()) {
            Some(0) => {
                tracing::warn!("{msg}");
                true
            }
            Some(n) => {
                tracing::warn!("{msg} ({n} more like this in the last minute)");
                true
            }
            None => false,
        }
    }

    /// `Some(held back)` when a line may go out at `now`.
    fn admit(&self, now: Instant) -> Option<u64> {
        let mut s = self.state.lock().unwrap();
        match s.0 {
            Some(last) if now.duration_since(last) < INTERVAL => {
                s.1 += 1;
                None
            }
            _ => {
                let held = s.1;
                *s = (Some(now), 0);
                Some(held)
            }
        }
    }
}

#[cfg(test)]
mod tests;
