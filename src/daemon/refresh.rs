//! Checking secrets with Vault: the first pass over what the boot units
//! rendered, and every due check (a KV v2 metadata read when the policy allows
//! it, else a full read), concurrently, one secret first so that a Vault that
//! just went away costs one request.

use super::core::{drive, Daemon};
use super::tracked::{next_health, Check, Health, Seen};
use super::{schedule, templates};
use crate::fetch::{self, Outcome};
use crate::render::Rendered;
use crate::spec::{KvVersion, SecretSpec};
use crate::vault::{kv, VaultClient, VaultError};
use futures::StreamExt;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

pub(super) async fn check_one(
    client: VaultClient,
    secret: SecretSpec,
    known: Option<u64>,
    metadata_denied: bool,
    state_dir: PathBuf,
) -> Check {
    let mut denied = false;
    if secret.kv_version == KvVersion::V2 && !metadata_denied && known.is_some() {
        match kv::current_version(&client, &secret.kv_mount, &secret.secret_path).await {
            Ok(v) if Some(v) == known => return Check::Same,
            Ok(_) => {}
            Err(e) if e.serves_cache() => {
                return Check::Unreachable(fetch::Fallback::of(&e).reason)
            }
            Err(VaultError::PermissionDenied { .. }) => denied = true,
            Err(_) => {}
        }
    }
    let outcome = fetch::fetch_one(&client, &secret, &state_dir).await;
    Check::Full(outcome, denied)
}

/// Re-renders a secret from its cache (the current data), under its lock;
/// `Ok(None)` without cache.
pub(super) async fn verify_one(
    secret: SecretSpec,
    state_dir: PathBuf,
) -> Result<Option<Rendered>, String> {
    tokio::task::spawn_blocking(move || fetch::render_cached(&secret, &state_dir))
        .await
        .unwrap_or_else(|e| Err(format!("render task failed: {e}")))
}

impl Daemon {
    /// The first pass of the secrets [`adopt_boot_fetch`] took over: rendered
    /// from their cache (no Vault request) and applied like a read that
    /// returned the recorded version; without a usable cache, read now.
    pub(super) async fn first_pass_from_boot_fetch(&mut self) {
        let adopted: Vec<SecretSpec> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.adopted)
            .filter_map(|(n, _)| self.spec.secrets.get(n).cloned())
            .collect();
        let mut restarts = Vec::new();
        for s in adopted {
            let (version, boot_cache, first_check) = {
                let t = &self.tracked[&s.name];
                (t.version, t.boot_cache, t.next_check)
            };
            match drive(
                &self.notifier,
                verify_one(s.clone(), self.spec.state_dir.clone()),
            )
            .await
            {
                Ok(Some(rendered)) => {
                    let outcome = match boot_cache {
                        Some(at) => Outcome::BootCache {
                            rendered,
                            version,
                            confirmed_age: Duration::from_secs(
                                crate::clock::now_unix().saturating_sub(at),
                            ),
                        },
                        None => Outcome::Fresh { rendered, version },
                    };
                    restarts.extend(
                        self.apply(&s.name, Check::Full(outcome, false))
                            .unwrap_or_default(),
                    );
                    if boot_cache.is_some() {
                        // Its first check stays where adoption put it: at a
                        // random time within the first refresh interval.
                        if let Some(t) = self.tracked.get_mut(&s.name) {
                            t.next_check = first_check;
                        }
                    }
                }
                Ok(None) | Err(_) => {
                    let t = self.tracked.get_mut(&s.name).expect("tracked");
                    t.adopted = false;
                    t.version = None;
                    t.next_check = Instant::now();
                }
            }
        }
        self.run_restarts(restarts);
    }

    pub(super) async fn refresh_due(&mut self) {
        let horizon = Instant::now() + Duration::from_secs(1);
        let mut due: Vec<SecretSpec> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.next_check <= horizon)
            .filter_map(|(n, _)| self.spec.secrets.get(n).cloned())
            .collect();
        // The secrets of one template are checked together: one render, one restart.
        let siblings = templates::siblings(&self.spec, &due);
        due.extend(
            siblings
                .into_iter()
                .filter(|s| self.tracked.contains_key(&s.name)),
        );
        if due.is_empty() {
            let jobs = self.templates.render_dirty(&self.spec).await;
            self.run_restarts(jobs);
            return;
        }
        let state_dir = self.spec.state_dir.clone();
        let client = match &self.token.client {
            Some(c) if self.vault_down_since.is_none() => Some(c.clone()),
            _ => None,
        };
        let Some(client) = client else {
            // No token: render what has never been rendered from the cache, and
            // look again at the refresh interval (a login re-schedules at once).
            let reason = match self.vault_down_since {
                Some(_) => "Vault is unreachable".to_string(),
                None => "no Vault token (the AppRole login fails)".to_string(),
            };
            let pending: Vec<SecretSpec> = due
                .iter()
                .filter(|s| self.tracked[&s.name].health == Health::Pending)
                .cloned()
                .collect();
            let fut = futures::stream::iter(pending.into_iter().map(|s| {
                let sd = state_dir.clone();
                let reason = reason.clone();
                async move {
                    let name = s.name.clone();
                    let fallback = fetch::Fallback {
                        reason,
                        code: crate::exit::UNREACHABLE,
                    };
                    (name, fetch::from_cache(s, fallback, sd).await)
                }
            }))
            .buffer_unordered(fetch::CONCURRENCY)
            .collect::<Vec<_>>();
            let mut restarts = Vec::new();
            for (name, outcome) in drive(&self.notifier, fut).await {
                restarts.extend(
                    self.apply(&name, Check::Full(outcome, false))
                        .unwrap_or_default(),
                );
            }
            restarts.extend(self.templates.render_dirty(&self.spec).await);
            self.run_restarts(restarts);
            for s in &due {
                let t = self.tracked.get_mut(&s.name).expect("tracked");
                t.next_check =
                    Instant::now() + schedule::refresh_delay(s.refresh_interval, rand::random());
                let new = next_health(t.health, Seen::Unreachable);
                if new != t.health {
                    t.health = new;
                    crate::metrics::global().secret_still_cached(&s.name);
                }
            }
            return;
        };
        // One secret first: when Vault has just gone away, that one failure is
        // the only request before the probe takes over.
        if due.len() > 1 {
            let first = due.remove(0);
            let t = &self.tracked[&first.name];
            let (known, denied) = (t.version, t.metadata_denied);
            let name = first.name.clone();
            let check = drive(
                &self.notifier,
                check_one(client.clone(), first, known, denied, state_dir.clone()),
            )
            .await;
            let jobs = self.apply(&name, check);
            self.run_restarts(jobs.unwrap_or_default());
            if self.vault_down_since.is_some() {
                return;
            }
        }
        let jobs: Vec<_> = due
            .into_iter()
            .map(|s| {
                let t = &self.tracked[&s.name];
                let (known, denied) = (t.version, t.metadata_denied);
                let (c, sd) = (client.clone(), state_dir.clone());
                async move {
                    let name = s.name.clone();
                    (name, check_one(c, s, known, denied, sd).await)
                }
            })
            .collect();
        let fut = futures::stream::iter(jobs)
            .buffer_unordered(fetch::CONCURRENCY)
            .collect::<Vec<_>>();
        let mut results = drive(&self.notifier, fut).await;
        results.sort_by(|a, b| a.0.cmp(&b.0));
        let mut restarts = Vec::new();
        for (name, check) in results {
            if let Some(jobs) = self.apply(&name, check) {
                restarts.extend(jobs);
            }
        }
        restarts.extend(self.templates.render_dirty(&self.spec).await);
        self.run_restarts(restarts);
    }
}
