//! Prometheus metrics: one registry per process ([`global`]), fed by the
//! daemon, the Vault client, the restart worker and the audit listener, and
//! exposed two ways (spec `metrics`):
//!
//! - `metrics.textfile`: a `.prom` file rewritten atomically (temporary file in
//!   the same directory, then `rename(2)`) on every pass of the daemon's loop, for
//!   node-exporter's textfile collector ([`textfile`]);
//! - `metrics.listen`: a loopback-only HTTP endpoint serving `GET /metrics`
//!   ([`http`]).
//!
//! The encoder is the `prometheus` crate's `TextEncoder`: the classic text format
//! 0.0.4 that node-exporter's textfile collector parses (counter `# TYPE` lines
//! carry the `_total` name; OpenMetrics output would not, and the collector would
//! read the counters as untyped). Names and labels: `docs/reference/metrics.md`.
//!
//! Nothing here ever holds a secret value: labels are secret names (spec keys),
//! unit names, Vault addresses, rule names and outcome words.

pub mod http;
pub mod textfile;

use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// Every metric vaultkeeper exports.
pub struct Metrics {
    registry: Registry,
    pub build_info: IntGaugeVec,
    pub secret_last_success: IntGaugeVec,
    pub secret_cache_age: IntGaugeVec,
    pub secret_from_cache: IntGaugeVec,
    pub secret_render_errors: IntCounterVec,
    pub secret_changes: IntCounterVec,
    /// No labels: the one series is removed for a token that never expires.
    pub token_ttl: IntGaugeVec,
    pub token_valid: IntGauge,
    pub logins: IntCounter,
    pub login_failures: IntCounter,
    pub vault_requests: IntCounterVec,
    pub restarts: IntCounterVec,
    pub restarts_skipped: IntCounterVec,
    pub restart_failures: IntCounterVec,
    pub audit_lines_read: IntCounter,
    pub audit_entries_evaluated: IntCounter,
    pub audit_lines_dropped: IntCounterVec,
    pub audit_connections_open: IntGauge,
    pub audit_alerts: IntCounterVec,
    pub slack_outbox_depth: IntGaugeVec,
    pub slack_failures: IntCounterVec,
    pub slack_unconfirmed: IntCounterVec,
    state: Mutex<State>,
}

/// What the derived gauges are computed from at encoding time.
#[derive(Default)]
struct State {
    /// Unix second at which Vault last confirmed the data each secret renders.
    data_time: BTreeMap<String, u64>,
    token: TokenExpiry,
    /// The last audit snapshot folded into the counters (they only go up).
    audit: Option<AuditTotals>,
}

/// The token as the daemon holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenExpiry {
    /// No token (never logged in, or the login fails).
    #[default]
    None,
    /// A token without expiry (a root-like token; AppRole tokens always expire).
    Never,
    /// Expires at this Unix second.
    At(u64),
}

/// The audit listener's cumulative counters, as its snapshot reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTotals {
    pub lines_read: u64,
    pub entries: u64,
    pub open_connections: u64,
    /// Dropped lines by reason (`too_long`, `overload`, ...).
    pub dropped: BTreeMap<String, u64>,
    pub alerts: BTreeMap<String, u64>,
}

/// Outcome label of a Vault request (`vaultkeeper_vault_requests_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Success,
    /// 4xx other than 429: denied, not found, bad request (Vault answered).
    ClientError,
    /// 429 (a standby or rate limit).
    RateLimited,
    /// 503 (sealed or standby).
    Unavailable,
    /// Other 5xx.
    ServerError,
    /// 3xx (a standby's redirect).
    Redirect,
    /// Connection refused, reset, TLS failure, timeout: no HTTP answer.
    ConnectionError,
    Timeout,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::ClientError => "client_error",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unavailable => "unavailable",
            Outcome::ServerError => "server_error",
            Outcome::Redirect => "redirect",
            Outcome::ConnectionError => "connection_error",
            Outcome::Timeout => "timeout",
        }
    }

    /// The outcome of an HTTP status.
    pub fn of_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::Success,
            300..=399 => Outcome::Redirect,
            429 => Outcome::RateLimited,
            503 => Outcome::Unavailable,
            500..=599 => Outcome::ServerError,
            _ => Outcome::ClientError,
        }
    }
}

/// Why a restart was not done (`vaultkeeper_restarts_skipped_total`).
pub const SKIP_CRITICAL: &str = "critical";

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::with_opts(Opts::new(name, help)).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::new)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let build_info = gauge_vec(
            &r,
            "vaultkeeper_build_info",
            "Always 1; the version label says which vaultkeeper runs.",
            &["version"],
        );
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let token_ttl = gauge_vec(
            &r,
            "vaultkeeper_token_ttl_seconds",
            "Seconds until the daemon's Vault token expires; 0 without a token; absent for a token that never expires.",
            &[],
        );
        let token_valid = IntGauge::with_opts(Opts::new(
            "vaultkeeper_token_valid",
            "1 while the daemon holds a Vault token, 0 while it has none (the login fails).",
        ))
        .expect("valid metric");
        r.register(Box::new(token_valid.clone()))
            .expect("unique metric");
        let audit_connections_open = IntGauge::with_opts(Opts::new(
            "vaultkeeper_audit_connections_open",
            "Audit device connections open now.",
        ))
        .expect("valid metric");
        r.register(Box::new(audit_connections_open.clone()))
            .expect("unique metric");
        Metrics {
            build_info,
            secret_last_success: gauge_vec(
                &r,
                "vaultkeeper_secret_last_success_timestamp_seconds",
                "Unix time at which Vault last answered a check of this secret and its files matched (0: not since the daemon started).",
                &["secret"],
            ),
            secret_cache_age: gauge_vec(
                &r,
                "vaultkeeper_secret_cache_age_seconds",
                "Seconds since Vault last confirmed the data this secret's files hold (grows while it is served from the cache).",
                &["secret"],
            ),
            secret_from_cache: gauge_vec(
                &r,
                "vaultkeeper_secret_served_from_cache",
                "1 while this secret's files come from the last-known-good cache because Vault cannot answer, else 0.",
                &["secret"],
            ),
            secret_render_errors: counter_vec(
                &r,
                "vaultkeeper_secret_render_errors_total",
                "Checks of this secret that ended without usable data (neither Vault nor the cache could render it).",
                &["secret"],
            ),
            secret_changes: counter_vec(
                &r,
                "vaultkeeper_secret_changes_total",
                "New generations rendered because the data in Vault changed.",
                &["secret"],
            ),
            token_ttl,
            token_valid,
            logins: counter(&r, "vaultkeeper_logins_total", "AppRole logins that succeeded."),
            login_failures: counter(
                &r,
                "vaultkeeper_login_failures_total",
                "AppRole logins that failed (Vault unreachable, credentials refused, files unreadable).",
            ),
            vault_requests: counter_vec(
                &r,
                "vaultkeeper_vault_requests_total",
                "HTTP requests to Vault by address and outcome (success, client_error, redirect, rate_limited, unavailable, server_error, connection_error, timeout).",
                &["address", "outcome"],
            ),
            restarts: counter_vec(
                &r,
                "vaultkeeper_restarts_total",
                "systemctl restarts/reloads done, by unit and cause (change, schedule).",
                &["unit", "cause"],
            ),
            restarts_skipped: counter_vec(
                &r,
                "vaultkeeper_restarts_skipped_total",
                "Restarts a change asked for and vaultkeeper did not do, by unit and reason (critical: the unit is in criticalServices).",
                &["unit", "reason"],
            ),
            restart_failures: counter_vec(
                &r,
                "vaultkeeper_restart_failures_total",
                "systemctl restarts/reloads that failed or timed out, by unit.",
                &["unit"],
            ),
            audit_lines_read: counter(
                &r,
                "vaultkeeper_audit_lines_read_total",
                "Lines read from audit device connections.",
            ),
            audit_entries_evaluated: counter(
                &r,
                "vaultkeeper_audit_entries_evaluated_total",
                "Audit entries evaluated by the alert rules.",
            ),
            audit_lines_dropped: counter_vec(
                &r,
                "vaultkeeper_audit_lines_dropped_total",
                "Audit lines not evaluated, by reason (overload: the queue was full; too_long, invalid_utf8, partial, empty, not_json, duplicate).",
                &["reason"],
            ),
            audit_connections_open,
            audit_alerts: counter_vec(
                &r,
                "vaultkeeper_audit_alerts_total",
                "Alerts raised by the audit rules, by rule.",
                &["rule"],
            ),
            slack_outbox_depth: gauge_vec(
                &r,
                "vaultkeeper_slack_outbox_messages",
                "Messages waiting in a Slack outbox, by outbox (audit, insights).",
                &["outbox"],
            ),
            slack_failures: counter_vec(
                &r,
                "vaultkeeper_slack_failures_total",
                "Slack delivery attempts that failed (retried later, or refused for good: HTTP 400), by outbox (audit, insights).",
                &["outbox"],
            ),
            slack_unconfirmed: counter_vec(
                &r,
                "vaultkeeper_slack_unconfirmed_total",
                "Messages sent to Slack without an answer (response timeout, broken connection, agent stopped): maybe posted, never sent again, kept in <stateDir>/<outbox>/unconfirmed, by outbox.",
                &["outbox"],
            ),
            registry: r,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a secret's series exist (0) before its first check.
    pub fn track_secret(&self, secret: &str) {
        self.secret_last_success.with_label_values(&[secret]);
        self.secret_from_cache.with_label_values(&[secret]);
        self.secret_render_errors.with_label_values(&[secret]);
        self.secret_changes.with_label_values(&[secret]);
    }

    /// Removes the series of a secret no longer in the spec.
    pub fn forget_secret(&self, secret: &str) {
        let _ = self.secret_last_success.remove_label_values(&[secret]);
        let _ = self.secret_cache_age.remove_label_values(&[secret]);
        let _ = self.secret_from_cache.remove_label_values(&[secret]);
        let _ = self.secret_render_errors.remove_label_values(&[secret]);
        let _ = self.secret_changes.remove_label_values(&[secret]);
        self.state().data_time.remove(secret);
    }

    /// Vault answered for `secret` at `now` and its files hold that data.
    pub fn secret_fresh(&self, secret: &str, now: u64) {
        self.secret_last_success
            .with_label_values(&[secret])
            .set(now as i64);
        self.secret_from_cache.with_label_values(&[secret]).set(0);
        self.state().data_time.insert(secret.to_string(), now);
    }

    /// `secret` is served from the cache, whose data Vault confirmed at `data_time`.
    pub fn secret_from_cache(&self, secret: &str, data_time: u64) {
        self.secret_from_cache.with_label_values(&[secret]).set(1);
        self.state().data_time.insert(secret.to_string(), data_time);
    }

    /// `secret` is still served from the cache (its data time is unchanged).
    pub fn secret_still_cached(&self, secret: &str) {
        self.secret_from_cache.with_label_values(&[secret]).set(1);
    }

    pub fn secret_failed(&self, secret: &str) {
        self.secret_render_errors.with_label_values(&[secret]).inc();
    }

    pub fn secret_changed(&self, secret: &str) {
        self.secret_changes.with_label_values(&[secret]).inc();
    }

    pub fn set_token(&self, t: TokenExpiry) {
        self.state().token = t;
    }

    pub fn vault_request(&self, address: &str, outcome: Outcome) {
        self.vault_requests
            .with_label_values(&[address, outcome.label()])
            .inc();
    }

    /// A new audit listener starts its counters from zero.
    pub fn audit_listener_started(&self) {
        self.state().audit = None;
    }

    /// Folds the audit listener's cumulative counters in. A listener restart
    /// (reload) starts its counters from zero: the new values are added whole.
    pub fn audit_totals(&self, now: AuditTotals) {
        let mut st = self.state();
        let prev = st.audit.take().unwrap_or_default();
        let delta = |new: u64, old: u64| if new >= old { new - old } else { new };
        self.audit_lines_read
            .inc_by(delta(now.lines_read, prev.lines_read));
        self.audit_entries_evaluated
            .inc_by(delta(now.entries, prev.entries));
        for (reason, n) in &now.dropped {
            let old = prev.dropped.get(reason).copied().unwrap_or(0);
            self.audit_lines_dropped
                .with_label_values(&[reason])
                .inc_by(delta(*n, old));
        }
        for (rule, n) in &now.alerts {
            let old = prev.alerts.get(rule).copied().unwrap_or(0);
            self.audit_alerts
                .with_label_values(&[rule])
                .inc_by(delta(*n, old));
        }
        self.audit_connections_open.set(now.open_connections as i64);
        st.audit = Some(now);
    }

    /// The text format at Unix second `now` (ages and TTL computed for `now`).
    pub fn encode(&self, now: u64) -> String {
        {
            let st = self.state();
            for (secret, t) in &st.data_time {
                self.secret_cache_age
                    .with_label_values(&[secret])
                    .set(now.saturating_sub(*t) as i64);
            }
            self.token_valid
                .set(i64::from(st.token != TokenExpiry::None));
            match st.token {
                TokenExpiry::None => self.token_ttl.with_label_values::<&str>(&[]).set(0),
                TokenExpiry::Never => {
                    let _ = self.token_ttl.remove_label_values::<&str>(&[]);
                }
                TokenExpiry::At(t) => self
                    .token_ttl
                    .with_label_values::<&str>(&[])
                    .set(t.saturating_sub(now) as i64),
            }
        }
        let families = self.registry.gather();
        TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_else(|e| format!("# vaultkeeper: cannot encode metrics: {e}\n"))
    }
}

#[cfg(test)]
mod tests;
