//! [`Metrics`]: every metric vaultkeeper exports, registered once in one
//! registry, and the process's instance ([`global`]).

use super::values::{AuditTotals, TokenExpiry};
use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// Every metric vaultkeeper exports.
pub struct Metrics {
    pub(super) registry: Registry,
    /// `vaultkeeper_build_info`: Always 1; the version label says which vaultkeeper runs.
    pub build_info: IntGaugeVec,
    /// `vaultkeeper_secret_last_success_timestamp_seconds`: Unix time at which Vault last answered a check of this secret and its files matched (0: not since the daemon started).
    pub secret_last_success: IntGaugeVec,
    /// `vaultkeeper_secret_cache_age_seconds`: Seconds since Vault last confirmed the data this secret's files hold (grows while it is served from the cache).
    pub secret_cache_age: IntGaugeVec,
    /// `vaultkeeper_secret_served_from_cache`: 1 while this secret's files come from the last-known-good cache because Vault cannot answer, else 0.
    pub secret_from_cache: IntGaugeVec,
    /// `vaultkeeper_secret_render_errors_total`: Checks of this secret that ended without usable data (neither Vault nor the cache could render it).
    pub secret_render_errors: IntCounterVec,
    /// `vaultkeeper_secret_changes_total`: New generations rendered because the data in Vault changed.
    pub secret_changes: IntCounterVec,
    /// No labels: the one series is removed for a token that never expires.
    pub token_ttl: IntGaugeVec,
    /// `vaultkeeper_token_valid`: 1 while the daemon holds a Vault token, 0 while it has none (the login fails).
    pub token_valid: IntGauge,
    /// `vaultkeeper_logins_total`: AppRole logins that succeeded.
    pub logins: IntCounter,
    /// `vaultkeeper_login_failures_total`: AppRole logins that failed (Vault unreachable, credentials refused, files unreadable).
    pub login_failures: IntCounter,
    /// `vaultkeeper_vault_requests_total`: HTTP requests to Vault by address and outcome (success, client_error, redirect, rate_limited, unavailable, server_error, connection_error, timeout).
    pub vault_requests: IntCounterVec,
    /// `vaultkeeper_restarts_total`: systemctl restarts/reloads done, by unit and cause (change, schedule).
    pub restarts: IntCounterVec,
    /// `vaultkeeper_restarts_skipped_total`: Restarts a change asked for and vaultkeeper did not do, by unit and reason (critical: the unit is in criticalServices).
    pub restarts_skipped: IntCounterVec,
    /// `vaultkeeper_restart_failures_total`: systemctl restarts/reloads that failed or timed out, by unit.
    pub restart_failures: IntCounterVec,
    /// `vaultkeeper_audit_lines_read_total`: Lines read from audit device connections.
    pub audit_lines_read: IntCounter,
    /// `vaultkeeper_audit_entries_evaluated_total`: Audit entries evaluated by the alert rules.
    pub audit_entries_evaluated: IntCounter,
    /// `vaultkeeper_audit_lines_dropped_total`: Audit lines not evaluated, by reason (overload: the queue was full; too_long, invalid_utf8, partial, empty, not_json, duplicate).
    pub audit_lines_dropped: IntCounterVec,
    /// `vaultkeeper_audit_connections_open`: Audit device connections open now.
    pub audit_connections_open: IntGauge,
    /// `vaultkeeper_audit_alerts_total`: Alerts raised by the audit rules, by rule.
    pub audit_alerts: IntCounterVec,
    /// `vaultkeeper_slack_outbox_messages`: Messages waiting in a Slack outbox, by outbox (audit, insights).
    pub slack_outbox_depth: IntGaugeVec,
    /// `vaultkeeper_slack_failures_total`: Slack delivery attempts that failed (retried later, or refused for good: HTTP 400), by outbox (audit, insights).
    pub slack_failures: IntCounterVec,
    /// `vaultkeeper_slack_unconfirmed_total`: Messages sent to Slack without an answer (response timeout, broken connection, agent stopped): maybe posted, never sent again, kept in <stateDir>/<outbox>/unconfirmed, by outbox.
    pub slack_unconfirmed: IntCounterVec,
    pub(super) state: Mutex<State>,
}

/// What the derived gauges are computed from at encoding time.
#[derive(Default)]
pub(super) struct State {
    /// Unix second at which Vault last confirmed the data each secret renders.
    pub(super) data_time: BTreeMap<String, u64>,
    pub(super) token: TokenExpiry,
    /// The last audit snapshot folded into the counters (they only go up).
    pub(super) audit: Option<AuditTotals>,
}

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
pub(crate) fn global() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::new)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric, registered in a registry of its own.
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
}
