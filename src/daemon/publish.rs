//! What the daemon shows outside: the systemd watchdog pings, the STATUS=
//! line ([`super::status_line`]) and the metrics ([`super::metrics`]).

use super::core::Daemon;
use super::tracked::Health;
use super::{metrics, status_line};
use crate::state;
use std::time::Duration;
use tokio::time::Instant;

impl Daemon {
    pub(super) fn ping_watchdog(&mut self) {
        if let Some(every) = self.notifier.watchdog_interval() {
            self.notifier.watchdog();
            self.next_watchdog = Some(Instant::now() + every);
        }
    }

    pub(super) fn ping_watchdog_if_due(&mut self) {
        if self.next_watchdog.is_some_and(|t| t <= Instant::now()) {
            self.ping_watchdog();
        }
    }

    pub(super) fn status_line(&self) -> String {
        let mut i = status_line::StatusInputs::default();
        for t in self.tracked.values() {
            match t.health {
                Health::Fresh => i.fresh += 1,
                Health::BootCache => i.boot_cache += 1,
                Health::FromCache => i.from_cache += 1,
                Health::Failed => i.failed += 1,
                Health::Pending => {}
            }
        }
        i.vault_down_for = self.vault_down_since.map(|t| t.elapsed());
        i.login_failing = self.login_failures.failing.as_ref().map(|(since, reason)| {
            state::LoginStatus {
                failing_since: since
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
                reason: reason.clone(),
            }
            .describe()
        });
        i.token = match (&self.token.client, self.token.expires) {
            (None, _) => status_line::TokenStatus::None,
            (Some(_), None) => status_line::TokenStatus::NoExpiry,
            (Some(_), Some(e)) => {
                status_line::TokenStatus::Ttl(e.saturating_duration_since(Instant::now()))
            }
        };
        i.next_rotation = self.next_rotation.as_ref().map(|(u, due)| {
            (
                u.clone(),
                Duration::from_secs(due.saturating_sub(crate::clock::now_unix())),
            )
        });
        status_line::line(&i)
    }

    pub(super) fn token_expiry(&self) -> crate::metrics::TokenExpiry {
        use crate::metrics::TokenExpiry;
        match (&self.token.client, self.token.expires) {
            (None, _) => TokenExpiry::None,
            (Some(_), None) => TokenExpiry::Never,
            (Some(_), Some(e)) => TokenExpiry::At(
                crate::clock::now_unix() + e.saturating_duration_since(Instant::now()).as_secs(),
            ),
        }
    }

    pub(super) fn publish_metrics(&mut self) {
        let token = self.token_expiry();
        let audit = self
            .audit
            .as_ref()
            .map(|a| metrics::audit_totals(&a.stats.snapshot()));
        self.metrics.publish(token, audit);
    }

    pub(super) fn publish_status(&mut self) {
        let line = self.status_line();
        if line != self.last_status {
            tracing::debug!("status: {line}");
            self.notifier.status(&line);
            self.last_status = line;
        }
    }
}
