//! The rule engine: parses a line, drops duplicates, counts it, runs every
//! enabled rule and coalesces the hits into alerts. One engine runs on one
//! thread; it never does I/O.

mod builtin;
mod classify;
pub(crate) mod coalesce;
mod context;
mod failure_rules;
pub(crate) mod glob;
mod hit;
mod memory;
mod system_rules;
mod token_rules;

use super::alert::Alert;
use super::dedup::Dedup;
use super::engine_counts::EngineCounts;
use super::entry::Entry;
use crate::spec::audit::rules::RuleConfig;
use crate::spec::audit::AuditSpec;
use coalesce::Coalescer;
use hit::{error_detail, Hit};
use memory::RuleMemory;

/// The alert rules over a stream of audit entries: built-in and custom rules,
/// their memory (login failures, root tokens) and Slack coalescing.
pub struct Engine {
    spec: AuditSpec,
    dedup: Dedup,
    /// What the built-in rules remember between entries.
    memory: RuleMemory,
    coalescer: Coalescer,
    /// False: every hit is its own alert (`audit replay` without `--coalesce`).
    coalesce: bool,
    /// What the engine saw: entries, hits per rule, request breakdowns.
    pub counts: EngineCounts,
    last_ms: i64,
}

/// Where the engine's clock comes from.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// Live: the caller passes the time the line arrived.
    Given(i64),
    /// Replay: each entry's own `time`.
    EntryTime,
}

impl Engine {
    /// An engine with the rules of `spec` and nothing remembered yet.
    pub fn new(spec: &AuditSpec) -> Engine {
        Engine {
            spec: spec.clone(),
            dedup: Dedup::new(1 << 16),
            memory: RuleMemory::new(),
            coalescer: Coalescer::default(),
            coalesce: true,
            counts: EngineCounts::default(),
            last_ms: 0,
        }
    }

    /// An engine that posts every hit as its own alert, never coalescing.
    pub fn per_event(spec: &AuditSpec) -> Engine {
        let mut e = Engine::new(spec);
        e.coalesce = false;
        e
    }

    fn emit(
        &mut self,
        key: String,
        window_ms: i64,
        now: i64,
        mut alert: Alert,
        out: &mut Vec<Alert>,
    ) {
        alert.redact();
        if self.coalesce {
            self.coalescer.hit(key, window_ms, now, alert, out);
        } else {
            out.push(alert);
        }
    }

    /// Runs one audit line through the rules; alerts go to `out`.
    pub fn ingest(&mut self, line: &str, clock: Clock, out: &mut Vec<Alert>) {
        let entry = match Entry::parse(line) {
            Ok(e) => e,
            Err(_) => {
                self.counts.not_json += 1;
                return;
            }
        };
        let now = match clock {
            Clock::Given(ms) => ms,
            Clock::EntryTime => entry
                .time
                .as_deref()
                .and_then(crate::clock::parse_rfc3339_ms)
                .unwrap_or(self.last_ms),
        };
        self.last_ms = self.last_ms.max(now);
        let id = entry.request_id();
        if !id.is_empty() && !self.dedup.first(&entry.kind, id) {
            self.counts.duplicates += 1;
            return;
        }
        self.counts.count(&entry);
        if !matches!(clock, Clock::Given(_)) {
            self.coalescer.tick(now, out);
        }
        let mut hits = Vec::new();
        builtin::evaluate(&mut self.memory, &self.spec, &entry, now, &mut hits);
        for (id, rule) in &self.spec.rules {
            if let Some(c) = &rule.custom {
                if rule.enabled && custom_matches(c, &entry) {
                    let title = c
                        .description
                        .clone()
                        .unwrap_or_else(|| format!("custom rule {id} matched"));
                    hits.push((id.clone(), Hit::new(title, error_detail(entry.error()))));
                }
            }
        }
        for (id, hit) in hits {
            let rule = &self.spec.rules[&id];
            if !rule.enabled {
                continue;
            }
            let alert = make_alert(rule, &entry, &hit, now);
            let window = rule.window.as_millis() as i64;
            *self.counts.alerts.entry(id.clone()).or_default() += 1;
            self.emit(hit.key, window, now, alert, out);
        }
    }

    /// Closes coalescing windows that ended by `now_ms` (live mode calls this every second).
    pub fn tick(&mut self, now_ms: i64, out: &mut Vec<Alert>) {
        self.coalescer.tick(now_ms, out);
        let window = self.spec.rule("login-failures").window.as_millis() as i64;
        self.memory.forget_logins_before(now_ms - window);
    }

    /// Emits every pending summary now (end of a replay, shutdown).
    pub fn flush(&mut self, out: &mut Vec<Alert>) {
        self.coalescer.flush(out);
    }

    /// Lines from the Vault server's connections were not evaluated: a
    /// critical alert at once (critical alerts are never held back, beyond
    /// the per-rule rate limit).
    pub fn overloaded(
        &mut self,
        lost: crate::audit::lost_lines::LostLines,
        now_ms: i64,
        out: &mut Vec<Alert>,
    ) {
        let rule = self.spec.rule("audit-overload").clone();
        let n = lost.total();
        if !rule.enabled || n == 0 {
            return;
        }
        let mut parts = Vec::new();
        if lost.overload > 0 {
            parts.push(format!(
                "{} ordinary lines dropped (queues full)",
                lost.overload
            ));
        }
        if lost.over_budget > 0 {
            parts.push(format!(
                "{} partial lines abandoned (memory budget used up)",
                lost.over_budget
            ));
        }
        if lost.priority > 0 {
            parts.push(format!(
                "{} SECURITY-RELEVANT lines lost (memory and spill area full)",
                lost.priority
            ));
        }
        let alert = Alert {
            rule: rule.id.clone(),
            severity: rule.severity,
            title: format!(
                "{n} audit lines from the Vault server were not evaluated (agent overloaded)"
            ),
            detail: Some(format!(
                "{}; the listener kept reading. See the file audit device for the full record.",
                parts.join(", ")
            )),
            time: crate::clock::rfc3339_ms(now_ms),
            request_id: String::new(),
            kind: String::new(),
            operation: String::new(),
            path: String::new(),
            count: n,
            summary: false,
            display_name: String::new(),
            policies: Vec::new(),
            accessor: String::new(),
            remote_address: String::new(),
            events: Vec::new(),
            unlisted: 0,
        };
        *self.counts.alerts.entry(rule.id.clone()).or_default() += 1;
        self.emit(
            String::new(),
            rule.window.as_millis() as i64,
            now_ms,
            alert,
            out,
        );
    }
}

fn custom_matches(c: &crate::spec::audit::rules::CustomMatch, e: &Entry<'_>) -> bool {
    // Responses carry the outcome; requests only count when they failed on their own.
    if !(e.is_response() || (e.is_request() && e.error().is_some())) {
        return false;
    }
    if !glob::matches(&c.path, e.path()) {
        return false;
    }
    if !c.operations.is_empty() && !c.operations.iter().any(|o| o == e.operation()) {
        return false;
    }
    if let Some(p) = &c.policy {
        if !e
            .auth
            .as_ref()
            .is_some_and(|a| a.policies.iter().any(|x| x == p))
        {
            return false;
        }
    }
    if let Some(want) = &c.error {
        match e.error() {
            None => return false,
            Some(err) => {
                if want != "*" && !err.contains(want.as_str()) {
                    return false;
                }
            }
        }
    }
    true
}

fn make_alert(rule: &RuleConfig, e: &Entry<'_>, hit: &Hit, now: i64) -> Alert {
    let auth = e.auth.as_ref();
    let ns = e.namespace();
    let (title, path) = if ns.is_empty() || ns == "root" {
        (hit.title.clone(), e.path().to_string())
    } else {
        let ns = if ns.ends_with('/') {
            ns.to_string()
        } else {
            format!("{ns}/")
        };
        (
            format!("{} (namespace {ns})", hit.title),
            format!("{ns}{}", e.path()),
        )
    };
    Alert {
        rule: rule.id.clone(),
        severity: hit.severity.unwrap_or(rule.severity).max(rule.severity),
        title,
        detail: hit.detail.clone(),
        time: e
            .time
            .as_deref()
            .map(str::to_string)
            .unwrap_or_else(|| crate::clock::rfc3339_ms(now)),
        request_id: e.request_id().to_string(),
        kind: e.kind.to_string(),
        operation: e.operation().to_string(),
        path,
        count: hit.count,
        summary: false,
        display_name: auth
            .and_then(|a| a.display_name.as_deref())
            .unwrap_or("")
            .to_string(),
        policies: auth
            .map(|a| a.policies.iter().map(|p| p.to_string()).collect())
            .unwrap_or_default(),
        accessor: auth
            .and_then(|a| a.accessor.as_deref())
            .unwrap_or("")
            .to_string(),
        remote_address: e.remote_address().to_string(),
        events: Vec::new(),
        unlisted: 0,
    }
}

#[cfg(test)]
mod tests;
