//! Lines read from the Vault server's connections that the rules never saw
//! (read from the listener's counters by [`super::stats::ReaderCounters::lost`]):
//! what the `audit-overload` alert reports.

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
    pub(crate) fn since(&self, before: &LostLines) -> LostLines {
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
