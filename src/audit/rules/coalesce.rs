//! Coalescing that never hides an event.
//!
//! - `critical`: every event is posted on its own, at once. Only beyond
//!   [`CRITICAL_PER_MINUTE`] events of one rule within a minute are the rest
//!   held back, and then posted as one summary when that minute ends, listing
//!   each of them (request id, operation, path, actor, address, time; up to
//!   [`CRITICAL_LISTED`], then a count).
//! - other severities: the first event of a rule (per key) within its window
//!   is posted at once; the further ones are posted as one summary when the
//!   window closes, listing every one of them (up to [`LISTED`], then a count).
//!
//! Summaries also go out when the engine is flushed (shutdown, end of replay).

use crate::audit::alert::{Alert, EventRef};
use crate::spec::audit::severity::Severity;
use std::collections::BTreeMap;

/// Keys kept per rule; beyond this, hits share one overflow key.
const MAX_KEYS_PER_RULE: usize = 10_000;
/// Critical events of one rule posted individually per minute.
pub(crate) const CRITICAL_PER_MINUTE: u64 = 10;
const MINUTE_MS: i64 = 60_000;
/// Events listed in a summary of a non-critical rule; the rest are counted.
pub(crate) const LISTED: usize = 50;
/// Events listed in a summary of a critical rule (what one Slack message can carry).
pub(crate) const CRITICAL_LISTED: usize = 200;

struct Window {
    start_ms: i64,
    window_ms: i64,
    /// Events held back for the summary.
    held: u64,
    events: Vec<EventRef>,
    /// The last held alert: the summary's template.
    last: Option<Alert>,
    /// Critical: events posted individually in this window.
    posted: u64,
}

impl Window {
    fn new(start_ms: i64, window_ms: i64) -> Window {
        Window {
            start_ms,
            window_ms,
            held: 0,
            events: Vec::new(),
            last: None,
            posted: 0,
        }
    }

    fn hold(&mut self, alert: Alert, cap: usize) {
        self.held += 1;
        if self.events.len() < cap {
            self.events.push(alert.event_ref());
        }
        self.last = Some(alert);
    }
}

#[derive(Default)]
pub(crate) struct Coalescer {
    windows: BTreeMap<(String, String), Window>,
    per_rule: BTreeMap<String, usize>,
}

impl Coalescer {
    pub(crate) fn hit(
        &mut self,
        key: String,
        window_ms: i64,
        now_ms: i64,
        alert: Alert,
        out: &mut Vec<Alert>,
    ) {
        let critical = alert.severity == Severity::Critical;
        let rule = alert.rule.clone();
        // Critical events are rate-limited per rule, not per key.
        let mut k = (rule.clone(), if critical { String::new() } else { key });
        let window_ms = if critical { MINUTE_MS } else { window_ms };
        if !self.windows.contains_key(&k)
            && self.per_rule.get(&rule).copied().unwrap_or(0) >= MAX_KEYS_PER_RULE
        {
            k.1 = "(many keys)".into();
        }
        if let Some(w) = self.windows.get_mut(&k) {
            if now_ms < w.start_ms + w.window_ms {
                if critical && w.posted < CRITICAL_PER_MINUTE {
                    w.posted += 1;
                    out.push(alert);
                } else {
                    w.hold(alert, if critical { CRITICAL_LISTED } else { LISTED });
                }
                return;
            }
            if let Some(s) = summary(w) {
                out.push(s);
            }
            *w = Window::new(now_ms, window_ms);
            w.posted = 1;
            out.push(alert);
            return;
        }
        *self.per_rule.entry(rule).or_default() += 1;
        let mut w = Window::new(now_ms, window_ms);
        w.posted = 1;
        self.windows.insert(k, w);
        out.push(alert);
    }

    /// Closes the windows that ended by `now_ms`, emitting their summaries.
    pub(crate) fn tick(&mut self, now_ms: i64, out: &mut Vec<Alert>) {
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
    pub(crate) fn flush(&mut self, out: &mut Vec<Alert>) {
        self.tick(i64::MAX, out);
    }
}

fn summary(w: &mut Window) -> Option<Alert> {
    let mut a = w.last.take()?;
    if w.held == 0 {
        return None;
    }
    let secs = w.window_ms / 1000;
    let within = crate::clock::secs_words(secs);
    a.detail = Some(if a.severity == Severity::Critical {
        format!(
            "{} more within {within}, beyond {CRITICAL_PER_MINUTE} posted individually; each is listed below",
            w.held
        )
    } else {
        format!(
            "{} more within {within} of the first alert; each is listed below",
            w.held
        )
    });
    a.count = w.held;
    a.summary = true;
    a.events = std::mem::take(&mut w.events);
    a.unlisted = w.held - a.events.len() as u64;
    w.held = 0;
    Some(a)
}

#[cfg(test)]
mod tests;
