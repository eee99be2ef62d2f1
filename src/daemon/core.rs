//! The daemon's state and what every concern shares: [`Daemon`] (its fields
//! grouped by concern), the token state, the loop's timing
//! constants and [`drive`], which keeps the watchdog fed while work runs.

use super::audit_task::AuditTask;
use super::token::TokenAction;
use super::tracked::Tracked;
use super::{lockout, metrics, probe, restart, schedule, templates, watch};
use crate::backoff::Backoff;
use crate::fetch::Credentials;
use crate::spec::Spec;
use crate::systemd::Notifier;
use crate::vault::VaultClient;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long the loop sleeps at most: STATUS stays current and wall-clock
/// schedules are re-read at least this often.
pub(super) const MAX_SLEEP: Duration = Duration::from_secs(30);
/// A denied read makes the daemon check its token, at most this often.
pub(super) const TOKEN_CHECK_EVERY: Duration = Duration::from_secs(10);
/// Events on outputs or config files are handled after this quiet time.
pub(super) const DEBOUNCE: Duration = Duration::from_millis(300);

/// The shortest refresh interval of the spec: the probe's backoff cap.
pub(super) fn shortest_refresh(spec: &Spec) -> Duration {
    spec.secrets
        .values()
        .map(|s| s.refresh_interval)
        .chain(std::iter::once(spec.refresh_interval))
        .min()
        .unwrap_or(spec.refresh_interval)
}

pub(super) fn critical_note(spec: &Spec) {
    if !spec.critical_services.is_empty() {
        tracing::info!(
            "criticalServices ({}) are never restarted automatically; a change that concerns them is logged as \"restart needed\"",
            spec.critical_services.join(", ")
        );
    }
}

#[derive(Default)]
pub(super) struct TokenState {
    /// A client carrying the current token.
    pub(super) client: Option<VaultClient>,
    pub(super) login_lease: Duration,
    /// `None` with a client: the token never expires.
    pub(super) expires: Option<Instant>,
    pub(super) next: Option<(Instant, TokenAction)>,
    pub(super) backoff: Option<Backoff>,
    pub(super) last_login: Option<Instant>,
    /// A read was denied: the token may have been revoked; check it soon.
    pub(super) suspect: bool,
    pub(super) last_check: Option<Instant>,
}

impl TokenState {
    pub(super) fn backoff(&mut self) -> &mut Backoff {
        self.backoff.get_or_insert_with(Backoff::vault)
    }
}

pub(super) struct Daemon {
    /// `metrics.textfile` and `metrics.listen` ([`metrics`]).
    pub(super) metrics: metrics::Publisher,
    pub(super) spec_path: PathBuf,
    pub(super) spec: Spec,
    pub(super) spec_bytes: Vec<u8>,
    pub(super) notifier: Notifier,
    pub(super) base: VaultClient,
    /// Records the addresses' state for `status` (`vault::failover`).
    pub(super) addresses: crate::vault::failover::Recorder,
    pub(super) creds: Option<Credentials>,
    pub(super) token: TokenState,
    pub(super) tracked: BTreeMap<String, Tracked>,
    pub(super) book: schedule::RotationBook,
    pub(super) seed: String,
    pub(super) watcher: Option<watch::Watcher>,
    pub(super) jobs: mpsc::UnboundedSender<restart::Job>,
    pub(super) vault_down_since: Option<Instant>,
    /// The one `sys/health` probe while Vault is down ([`probe`]).
    pub(super) probe: probe::Probe,
    /// Rejected logins, spaced under the AppRole lockout ([`lockout`]).
    pub(super) login_failures: lockout::LoginFailures,
    pub(super) spec_check_at: Option<Instant>,
    pub(super) creds_check_at: Option<Instant>,
    pub(super) next_watchdog: Option<Instant>,
    pub(super) next_rotation: Option<(String, u64)>,
    pub(super) last_status: String,
    pub(super) audit: Option<AuditTask>,
    pub(super) templates: templates::Templates,
    /// The insights task ([`crate::insights::agent`]) follows reloads here.
    pub(super) insights_spec: tokio::sync::watch::Sender<Arc<Spec>>,
    /// The Slack slash-command endpoint ([`crate::chat`]), when the spec has `chat`.
    pub(super) chat: Option<crate::chat::server::ChatTask>,
}

/// Awaits `fut` while keeping the watchdog fed (long batches against a slow Vault).
pub(super) async fn drive<F: Future>(notifier: &Notifier, fut: F) -> F::Output {
    let Some(every) = notifier.watchdog_interval() else {
        return fut.await;
    };
    tokio::pin!(fut);
    let mut tick = tokio::time::interval_at(Instant::now() + every, every);
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = tick.tick() => notifier.watchdog(),
        }
    }
}
