//! What the crate tells the metrics (a secret fresh, from the cache, failed;
//! the token; Vault requests; audit totals) and the text format they are
//! exported in ([`Metrics::encode`]).

use super::registry::{Metrics, State};
use super::values::{AuditTotals, Outcome, TokenExpiry};
use prometheus::TextEncoder;

impl Metrics {
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
    /// The secret is served from its cache (Vault unreachable).
    pub fn secret_still_cached(&self, secret: &str) {
        self.secret_from_cache.with_label_values(&[secret]).set(1);
    }

    /// A render of the secret failed.
    pub fn secret_failed(&self, secret: &str) {
        self.secret_render_errors.with_label_values(&[secret]).inc();
    }

    /// The secret's files changed.
    pub fn secret_changed(&self, secret: &str) {
        self.secret_changes.with_label_values(&[secret]).inc();
    }

    /// When the daemon's token expires.
    pub fn set_token(&self, t: TokenExpiry) {
        self.state().token = t;
    }

    /// One request to Vault at `address`, and how it ended.
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
