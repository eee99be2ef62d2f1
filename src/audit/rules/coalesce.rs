//! Coalescing: the first hit of a rule (per key) within its window is sent at
//! once; further hits in that window are counted and sent as one summary when
//! the window closes (or when the engine is flushed, e.g. at shutdown).

use crate::audit::alert::Alert;
use std::collections::BTreeMap;

/// Keys kept per rule; beyond this, hits share one overflow key.
const MAX_KEYS_PER_RULE: usize = 10_000;

struct Window {
    start_ms: i64,
    window_ms: i64,
    suppressed: u64,
    last: Option<Alert>,
}

#[derive(Default)]
pub struct Coalescer {
    windows: BTreeMap<(String, String), Window>,
    per_rule: BTreeMap<String, usize>,
}

impl Coalescer {
    pub fn hit(
        &mut self,
        key: String,
        window_ms: i64,
        now_ms: i64,
        alert: Alert,
        out: &mut Vec<Alert>,
    ) {
        let rule = alert.rule.clone();
        let mut k = (rule.clone(), key);
        if !self.windows.contains_key(&k)
            && self.per_rule.get(&rule).copied().unwrap_or(0) >= MAX_KEYS_PER_RULE
        {
            k.1 = "(many keys)".into();
        }
        if let Some(w) = self.windows.get_mut(&k) {
            if now_ms < w.start_ms + w.window_ms {
                w.suppressed += 1;
                w.last = Some(alert);
                return;
            }
            if let Some(s) = summary(w) {
                out.push(s);
            }
            w.start_ms = now_ms;
            w.window_ms = window_ms;
            w.suppressed = 0;
            w.last = None;
            out.push(alert);
            return;
        }
        *self.per_rule.entry(rule).or_default() += 1;
        self.windows.insert(
            k,
            Window {
                start_ms: now_ms,
                window_ms,
                suppressed: 0,
                last: None,
            },
        );
        out.push(alert);
    }

    /// Closes the windows that ended by `now_ms`, emitting their summaries.
    pub fn tick(&mut self, now_ms: i64, out: &mut Vec<Alert>) {
        let per_rule = &mut self.per_rule;
        self.windows.retain(|(rule, _), w| {
            if now_ms < w.start_ms + w.window_ms {
                return true;
            }
            if let Some(s) = summary(w) {
                out.push(s);
            }
            if let Some(n) = per_rule.get_mut(rule) {
                *n -= 1;
            }
            false
        });
    }

    /// Emits every pending summary now.
    pub fn flush(&mut self, out: &mut Vec<Alert>) {
        self.tick(i64::MAX, out);
    }

    pub fn pending(&self) -> usize {
        self.windows.values().filter(|w| w.suppressed > 0).count()
    }
}

fn summary(w: &mut Window) -> Option<Alert> {
    let mut a = w.last.take()?;
    if w.suppressed == 0 {
        return None;
    }
    let secs = w.window_ms / 1000;
    a.detail = Some(format!(
        "{} more within {} of the first alert{}",
        w.suppressed,
        humantime::format_duration(std::time::Duration::from_secs(secs.max(0) as u64)),
        a.detail
            .as_deref()
            .map(|d| format!("; last: {d}"))
            .unwrap_or_default()
    ));
    a.count = w.suppressed;
    a.summary = true;
    w.suppressed = 0;
    Some(a)
}
