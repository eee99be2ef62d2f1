//! The daemon's session with Vault: the outage state and its `sys/health`
//! probe, the AppRole login and the token's renewals ([`super::token`] plans
//! them, this file carries them out).

use super::core::{drive, Daemon, TOKEN_CHECK_EVERY};
use super::token::{self, Plan, TokenAction};
use super::tracked::Health;
use super::{probe, status_line};
use crate::fetch;
use crate::state;
use crate::vault::approle;
use std::time::Duration;
use tokio::time::Instant;

impl Daemon {
    pub(super) fn vault_down(&mut self, reason: &str) {
        if self.vault_down_since.is_none() {
            tracing::warn!("Vault is unreachable ({reason}); serving the rendered secrets from the cache until it answers again (one sys/health probe at a time meanwhile)");
            self.vault_down_since = Some(Instant::now());
            self.probe.start(rand::random());
        }
    }

    /// While Vault is down: the probe, when due; its answer ends the outage.
    pub(super) async fn probe_step(&mut self) {
        if self.vault_down_since.is_none() || !self.probe.due() {
            return;
        }
        match drive(&self.notifier, probe::health(&self.base)).await {
            Ok(()) => self.vault_up(),
            Err(reason) => {
                let wait = self.probe.failed(rand::random());
                tracing::debug!(
                    "sys/health probe: {reason}; next in {}",
                    status_line::coarse(wait)
                );
            }
        }
    }

    pub(super) fn vault_up(&mut self) {
        if let Some(since) = self.vault_down_since.take() {
            // The server may have restarted and forgotten our token: the next
            // denied read checks it at once.
            self.token.last_check = None;
            tracing::info!(
                "Vault answers again after {}",
                status_line::coarse(since.elapsed())
            );
            self.probe.stop();
            // What waited for the probe goes now.
            let now = Instant::now();
            for t in self.tracked.values_mut() {
                t.next_check = t.next_check.min(now);
                t.backoff.succeed();
            }
        }
    }

    pub(super) fn schedule_token(&mut self, plan: Plan) {
        self.token.next = match plan {
            Plan::Never => None,
            Plan::After(d, a) => Some((Instant::now() + d, a)),
        };
    }

    pub(super) async fn token_step(&mut self) {
        if self.vault_down_since.is_some() {
            return;
        }
        let now = Instant::now();
        if self.token.suspect {
            self.token.suspect = false;
            // At most one check per TOKEN_CHECK_EVERY; a denial right after a
            // check (a token revoked a moment after it was checked) waits for
            // the next slot instead of being forgotten.
            if self.token.client.is_some() {
                let at = self
                    .token
                    .last_check
                    .map_or(now, |t| (t + TOKEN_CHECK_EVERY).max(now));
                match self.token.next {
                    Some((_, TokenAction::Login)) => {}
                    Some((t, TokenAction::Renew)) if t <= at => {}
                    _ => self.token.next = Some((at, TokenAction::Renew)),
                }
            }
        }
        let Some((at, action)) = self.token.next else {
            return;
        };
        if at > now {
            return;
        }
        match action {
            TokenAction::Login => self.login().await,
            TokenAction::Renew => self.renew().await,
        }
    }

    pub(super) async fn login(&mut self) {
        self.token.last_check = Some(Instant::now());
        let creds = match fetch::read_credentials(&self.spec.approle) {
            Ok(c) => c,
            Err(e) => {
                crate::metrics::global().login_failures.inc();
                let wait = self.token.backoff().fail_random();
                tracing::error!("{e} (retrying in {})", status_line::coarse(wait));
                self.token.next = Some((Instant::now() + wait, TokenAction::Login));
                return;
            }
        };
        let result = drive(&self.notifier, fetch::login(&self.base, &self.spec, &creds)).await;
        self.creds = Some(creds);
        match result {
            Ok(t) => {
                crate::metrics::global().logins.inc();
                let first = self.token.client.is_none();
                tracing::info!(
                    "logged in with AppRole (token ttl {}, {})",
                    status_line::coarse(t.lease_duration),
                    if t.renewable {
                        "renewable"
                    } else {
                        "not renewable"
                    }
                );
                let previous = self
                    .token
                    .client
                    .replace(self.base.with_token(t.token.clone()));
                if let Some(old) = previous {
                    // The token this login replaces ends now, not at its TTL.
                    tokio::spawn(async move { crate::vault::approle::release(&old).await });
                }
                self.token.login_lease = t.lease_duration;
                self.token.expires =
                    (!t.lease_duration.is_zero()).then(|| Instant::now() + t.lease_duration);
                self.token.last_login = Some(Instant::now());
                self.token.backoff().succeed();
                if self.login_failures.failing.is_some() {
                    tracing::info!("the AppRole login works again");
                }
                self.login_failures.succeeded();
                state::login_ok(&self.spec.state_dir);
                self.schedule_token(token::after_login(t.lease_duration, t.renewable));
                self.vault_up();
                self.token.last_check = Some(Instant::now());
                // Whatever could not be checked without a token is checked now.
                let now = Instant::now();
                for tr in self.tracked.values_mut() {
                    let serving = matches!(tr.health, Health::Fresh | Health::BootCache);
                    if (first && !tr.adopted) || !serving {
                        tr.next_check = tr.next_check.min(now);
                    }
                }
            }
            Err(e) => {
                crate::metrics::global().login_failures.inc();
                self.token.client = None;
                self.token.expires = None;
                let wait = self.token.backoff().fail_random();
                if let crate::vault::approle::LoginError::Vault(v) = &e {
                    if v.serves_cache() {
                        self.vault_down(&fetch::Fallback::of(v).reason);
                    }
                }
                if let crate::vault::approle::LoginError::Rejected { message, .. } = &e {
                    // Vault counts this one towards the role's lockout.
                    let wait = self.login_failures.rejected(message, rand::random());
                    state::login_rejected(&self.spec.state_dir, message);
                    tracing::error!(
                        "{e}; check the role-id in {} and the secret-id in {} (next attempt in {}, or at once when the credential files change; {} rejected in the last {})",
                        self.spec.approle.role_id_file.display(),
                        self.spec.approle.secret_id_file.display(),
                        status_line::coarse(wait),
                        self.login_failures.in_window(),
                        status_line::coarse(self.spec.approle.login_backoff.window),
                    );
                    self.token.next = Some((Instant::now() + wait, TokenAction::Login));
                    return;
                }
                if e.serves_cache() {
                    tracing::warn!(
                        "cannot log in: {e} (retrying in {})",
                        status_line::coarse(wait)
                    );
                } else {
                    tracing::error!(
                        "{e}; check the role-id in {} and the secret-id in {} (retrying in {})",
                        self.spec.approle.role_id_file.display(),
                        self.spec.approle.secret_id_file.display(),
                        status_line::coarse(wait)
                    );
                }
                self.token.next = Some((Instant::now() + wait, TokenAction::Login));
            }
        }
    }

    pub(super) async fn renew(&mut self) {
        self.token.last_check = Some(Instant::now());
        let Some(client) = self.token.client.clone() else {
            self.token.next = Some((Instant::now(), TokenAction::Login));
            return;
        };
        match drive(&self.notifier, approle::renew_self(&client)).await {
            Ok(t) => {
                tracing::debug!(
                    "token renewed (ttl {})",
                    status_line::coarse(t.lease_duration)
                );
                self.token.expires =
                    (!t.lease_duration.is_zero()).then(|| Instant::now() + t.lease_duration);
                self.token.backoff().succeed();
                self.vault_up();
                self.token.last_check = Some(Instant::now());
                let plan =
                    token::after_renewal(t.lease_duration, t.renewable, self.token.login_lease);
                if matches!(plan, Plan::After(_, TokenAction::Login)) {
                    tracing::info!(
                        "the token's max TTL is near (renewed for only {}): a new login is due before it expires",
                        status_line::coarse(t.lease_duration)
                    );
                }
                self.schedule_token(plan);
            }
            Err(e) if e.serves_cache() => {
                self.vault_down(&fetch::Fallback::of(&e).reason);
                let wait = self.token.backoff().fail_random();
                let remaining = self.token.expires.map_or(Duration::MAX, |x| {
                    x.saturating_duration_since(Instant::now())
                });
                tracing::warn!(
                    "cannot renew the token: {e} (retrying in {})",
                    status_line::coarse(wait)
                );
                self.schedule_token(token::after_unreachable_renewal(wait, remaining));
            }
            Err(e) => {
                tracing::warn!("Vault refused to renew the token ({e}): logging in again");
                self.token.client = None;
                // Never a tight loop: a login right after a login waits its backoff.
                let recent = self
                    .token
                    .last_login
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(10));
                let wait = if recent {
                    self.token.backoff().fail_random()
                } else {
                    Duration::ZERO
                };
                self.token.next = Some((Instant::now() + wait, TokenAction::Login));
            }
        }
    }
}
