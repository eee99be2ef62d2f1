//! Reading from Vault: the AppRole login, then every selected secret read
//! concurrently ([`CONCURRENCY`] at a time) under its lock, the caches
//! committed as one batch, the token revoked at the end.

use super::credentials::{read_credentials, Credentials};
use super::locking::{lock_in_order, Locking};
use super::outcome::{Fallback, FetchError, Report};
use super::write::{commit_batch, fetch_one_with, from_cache_with, CacheSink};
use crate::spec::{SecretSpec, Spec};
use crate::state;
use crate::vault::approle::{self, AuthToken, LoginError};
use crate::vault::VaultClient;
use futures::StreamExt;
use std::time::Duration;

/// How many secrets are read from Vault at once.
pub(crate) const CONCURRENCY: usize = 32;

/// Logs in with the host's AppRole credentials.
pub(crate) async fn login(
    client: &VaultClient,
    spec: &Spec,
    creds: &Credentials,
) -> Result<AuthToken, LoginError> {
    approle::login(
        client,
        &spec.approle.mount,
        &creds.role_id,
        &creds.secret_id,
    )
    .await
}

/// Logs in and reads every one of `secrets` from Vault (the cache when Vault
/// cannot answer).
pub(super) async fn read_all(
    spec: &Spec,
    client: &VaultClient,
    secrets: &[&SecretSpec],
    lock_timeout: Duration,
) -> Result<Report, FetchError> {
    let creds = read_credentials(&spec.approle)?;
    let started = std::time::Instant::now();
    let authed = match login(client, spec, &creds).await {
        Ok(token) => {
            state::login_ok(&spec.state_dir);
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "logged in"
            );
            Ok(client.with_token(token.token))
        }
        Err(LoginError::Vault(e)) if e.serves_cache() => Err(Fallback::of(&e)),
        Err(LoginError::Vault(e)) => return Err(FetchError::Login(e)),
        Err(source) => {
            if let LoginError::Rejected { message, .. } = &source {
                state::login_rejected(&spec.state_dir, message);
            }
            return Err(FetchError::LoginRejected {
                source,
                role_id_file: spec.approle.role_id_file.clone(),
                secret_id_file: spec.approle.secret_id_file.clone(),
            });
        }
    };
    // One writer per secret: take every selected secret's lock, in name order,
    // and hold them until the batch's caches are committed.
    // (Taken on this thread: nothing else runs yet, and no extra thread — with
    // its own malloc arena — is started under a tight address-space limit.)
    let names: Vec<String> = secrets.iter().map(|s| s.name.clone()).collect();
    let (locks, mut refused) = lock_in_order(&spec.state_dir, names, lock_timeout);
    let secrets: Vec<&SecretSpec> = secrets
        .iter()
        .copied()
        .filter(|s| !refused.iter().any(|(n, _)| *n == s.name))
        .collect();
    let batch = CacheSink::batch();
    let mut outcomes = futures::stream::iter(secrets.iter().map(|s| {
        let authed = authed.clone();
        let state_dir = spec.state_dir.clone();
        let batch = batch.clone();
        async move {
            let outcome = match authed {
                Ok(c) => fetch_one_with(&c, s, &state_dir, batch, Locking::Held).await,
                Err(fallback) => {
                    from_cache_with((*s).clone(), fallback, state_dir, Locking::Held).await
                }
            };
            (s.name.clone(), outcome)
        }
    }))
    .buffer_unordered(CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    commit_batch(batch, &mut outcomes, &spec.state_dir).await;
    drop(locks);
    outcomes.append(&mut refused);
    if let Ok(c) = &authed {
        approle::release(c).await;
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        secrets = outcomes.len(),
        "all secrets done"
    );
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    crate::vault::failover::save(&spec.state_dir, &client.endpoints().snapshot());
    Ok(Report { outcomes })
}
