//! Applying a check's result to a secret: its health, the status record, the
//! metrics, the log, the restarts a change asks for; and restoring files
//! someone else deleted or modified (from the cache).

use super::core::{drive, Daemon, TOKEN_CHECK_EVERY};
use super::refresh::verify_one;
use super::tracked::{next_health, serving, Check, Health, Seen};
use super::{restart, schedule, status_line};
use crate::fetch::{self, Outcome};
use crate::render::Rendered;
use crate::spec::SecretSpec;
use crate::state;
use tokio::time::Instant;

impl Daemon {
    /// Records a check's result; returns the restarts a change asks for.
    pub(super) fn apply(&mut self, name: &str, check: Check) -> Option<Vec<restart::Job>> {
        let secret = self.spec.secrets.get(name)?.clone();
        let mut jobs = None;
        let mut failed = false;
        match check {
            Check::Same => {
                self.vault_up();
                let t = self.tracked.get_mut(name)?;
                if !serving(t.health) {
                    // Back from the cache with the same data: the status record says so.
                    let mut st = state::load(&self.spec.state_dir, name);
                    st.last_fetch = Some(crate::clock::now_unix());
                    state::save(&self.spec.state_dir, name, &st);
                }
                // Vault confirmed the cached version: a reboot within
                // bootCacheMaxAge may render it without Vault.
                crate::boot_cache::confirm_current(&secret, &self.spec.state_dir, t.version);
                if t.health == Health::BootCache {
                    tracing::info!("secret {name}: Vault confirmed the version rendered at boot from the cache");
                }
                t.health = next_health(t.health, Seen::Same);
                crate::metrics::global().secret_fresh(name, crate::clock::now_unix());
            }
            Check::Unreachable(reason) => {
                self.vault_down(&reason);
                crate::metrics::global().secret_still_cached(name);
                let t = self.tracked.get_mut(name)?;
                let new = next_health(t.health, Seen::Unreachable);
                if new != t.health {
                    t.health = new;
                    let mut st = state::load(&self.spec.state_dir, name);
                    st.from_cache_since.get_or_insert(crate::clock::now_unix());
                    st.last_error = Some(reason);
                    state::save(&self.spec.state_dir, name, &st);
                }
            }
            Check::Full(Outcome::BootCache { .. }, _) if !self.tracked.get(name)?.adopted => {
                // Only adoption (the first pass) renders from the boot cache.
                return None;
            }
            Check::Full(
                Outcome::Fresh { rendered, version }
                | Outcome::BootCache {
                    rendered, version, ..
                },
                denied,
            ) => {
                let t = self.tracked.get_mut(name)?;
                let boot_cache = t.boot_cache.filter(|_| t.adopted);
                if boot_cache.is_none() {
                    self.vault_up();
                }
                let t = self.tracked.get_mut(name)?;
                if denied && !t.metadata_denied {
                    tracing::info!("secret {name}: the policy denies its KV metadata; it is checked with full reads from now on");
                    t.metadata_denied = true;
                }
                let first = t.health == Health::Pending;
                t.version = version;
                t.health = next_health(
                    t.health,
                    Seen::Fresh {
                        boot_cache: boot_cache.is_some(),
                    },
                );
                let m = crate::metrics::global();
                m.secret_fresh(name, boot_cache.unwrap_or_else(crate::clock::now_unix));
                if !first && matches!(rendered, Rendered::Changed { .. }) {
                    m.secret_changed(name);
                }
                if let Rendered::Changed { generation, files } = rendered {
                    tracing::info!(
                        "secret {name}: {}{}: rendered {files} file(s) as generation {generation}",
                        match (first, boot_cache) {
                            (true, Some(_)) =>
                                "taken from the cache Vault confirmed before the boot",
                            (true, None) => "fetched from Vault",
                            (false, _) => "changed from Vault",
                        },
                        version
                            .map(|v| format!(" (version {v})"))
                            .unwrap_or_default()
                    );
                    self.rewatch(&secret);
                    self.templates.secret_changed(&self.spec, name);
                    let (j, critical) = restart::on_change_jobs(&self.spec, &secret);
                    for unit in critical {
                        restart::restart_needed(&unit, name);
                    }
                    jobs = Some(j);
                } else {
                    tracing::debug!("secret {name}: unchanged");
                }
            }
            Check::Full(
                Outcome::FromCache {
                    rendered,
                    age,
                    reason,
                },
                _,
            ) => {
                self.vault_down(&reason);
                crate::metrics::global().secret_from_cache(
                    name,
                    crate::clock::now_unix().saturating_sub(age.as_secs()),
                );
                let t = self.tracked.get_mut(name)?;
                t.health = next_health(t.health, Seen::FromCache);
                if let Rendered::Changed { generation, .. } = rendered {
                    tracing::warn!(
                        "secret {name}: rendered from the last-known-good cache ({} old) as generation {generation}, because {reason}",
                        status_line::coarse(age)
                    );
                    self.rewatch(&secret);
                    self.templates.secret_changed(&self.spec, name);
                }
            }
            Check::Full(Outcome::Failed(e), _) => {
                let unreachable = match &e {
                    fetch::SecretError::UnreachableNoCache { .. } => true,
                    fetch::SecretError::Vault { source, .. } => source.serves_cache(),
                    _ => false,
                };
                if unreachable {
                    self.vault_down(&e.to_string());
                } else {
                    // Vault answered (a refusal is an answer): it is reachable.
                    self.vault_up();
                }
                let denied = matches!(e, fetch::SecretError::Denied { .. });
                let token_checked = self
                    .token
                    .last_check
                    .is_some_and(|t| t.elapsed() < TOKEN_CHECK_EVERY);
                if denied && !token_checked {
                    // A 403 is also what a revoked or expired token gets (e.g.
                    // OpenBao restarted): check the token first, then read again.
                    tracing::warn!("secret {name}: Vault denied reading it; checking whether the token is still valid");
                    self.token.suspect = true;
                    self.tracked.get_mut(name)?.next_check = Instant::now();
                    return None;
                }
                if denied {
                    // The token was checked moments ago: check it again at
                    // the next slot all the same.
                    self.token.suspect = true;
                }
                tracing::error!("{e}");
                crate::metrics::global().secret_failed(name);
                let t = self.tracked.get_mut(name)?;
                t.health = next_health(t.health, Seen::Failed);
                failed = true;
            }
        }
        let t = self.tracked.get_mut(name)?;
        let mut next = schedule::refresh_delay(secret.refresh_interval, rand::random());
        if failed {
            next = next.max(t.backoff.fail_random());
        } else {
            t.backoff.succeed();
        }
        t.next_check = Instant::now() + next;
        t.adopted = false;
        jobs
    }

    pub(super) fn rewatch(&mut self, secret: &SecretSpec) {
        if let Some(w) = self.watcher.as_mut() {
            w.watch_generation(&secret.name, &secret.output_dir);
        }
    }

    pub(super) async fn verify_due(&mut self) {
        let now = Instant::now();
        let due: Vec<SecretSpec> = self
            .tracked
            .iter_mut()
            .filter(|(_, t)| t.verify_at.is_some_and(|v| v <= now))
            .map(|(n, t)| {
                t.verify_at = None;
                n.clone()
            })
            .filter_map(|n| self.spec.secrets.get(&n).cloned())
            .collect();
        for s in due {
            match drive(
                &self.notifier,
                verify_one(s.clone(), self.spec.state_dir.clone()),
            )
            .await
            {
                Ok(Some(Rendered::Changed { generation, .. })) => {
                    tracing::warn!(
                        "secret {}: its files at {} were deleted or modified by someone else; re-rendered them from the current data as generation {generation}",
                        s.name,
                        s.output_dir.display()
                    );
                    self.rewatch(&s);
                }
                Ok(Some(Rendered::Unchanged)) => self.rewatch(&s),
                Ok(None) => {
                    tracing::warn!(
                        "secret {}: its files at {} changed and there is no cached data to restore them; re-reading it from Vault",
                        s.name,
                        s.output_dir.display()
                    );
                    if let Some(t) = self.tracked.get_mut(&s.name) {
                        t.version = None;
                        t.next_check = now;
                    }
                }
                Err(e) => tracing::error!("secret {}: cannot restore its files: {e}", s.name),
            }
        }
    }
}
