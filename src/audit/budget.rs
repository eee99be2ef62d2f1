//! The one byte budget for every buffer peers can make the listener hold
//! (partial lines beyond a small allowance, queued lines): lock-free take/give.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The global byte budget for buffers peers can fill.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Budget {
        Budget {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes `n` bytes if they fit.
    #[cfg(test)]
    pub(crate) fn try_take(&self, n: usize) -> bool {
        self.try_take_within(n, self.limit)
    }

    /// Takes `n` bytes if the total stays within `cap` (≤ the limit).
    pub(crate) fn try_take_within(&self, n: usize, cap: usize) -> bool {
        let cap = cap.min(self.limit);
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            if cur + n > cap {
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

    pub(crate) fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}
