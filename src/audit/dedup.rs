//! Remembers recently seen keys (entry type + request id), so an entry OpenBao
//! re-sends after a reconnect is handled once. Bounded: the oldest keys are
//! forgotten first.

use std::collections::hash_map::RandomState;
use std::collections::{HashSet, VecDeque};
use std::hash::BuildHasher;

pub(crate) struct Dedup {
    set: HashSet<u64>,
    order: VecDeque<u64>,
    cap: usize,
    hasher: RandomState,
}

impl Dedup {
    pub(crate) fn new(cap: usize) -> Dedup {
        Dedup {
            set: HashSet::with_capacity(cap.min(1 << 16)),
            order: VecDeque::with_capacity(cap.min(1 << 16)),
            cap,
            hasher: RandomState::new(),
        }
    }

    /// True the first time a key is seen (within the last `cap` keys).
    pub(crate) fn first(&mut self, kind: &str, id: &str) -> bool {
        let h = self.hasher.hash_one((kind, id));
        if !self.set.insert(h) {
            return false;
        }
        self.order.push_back(h);
        if self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests;
