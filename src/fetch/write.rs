//! Writing one secret: read from Vault and rendered, its cache written
//! durably or staged for a batch commit; or rendered from its last-known-good
//! cache when Vault cannot answer.

use super::locking::{record_failure, under_lock, Locking};
use super::outcome::{Fallback, Outcome, SecretError};
use crate::cache;
use crate::render;
use crate::spec::SecretSpec;
use crate::state;
use crate::vault::kv::{self, KvSecret};
use crate::vault::{VaultClient, VaultError};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where a fresh secret's cache goes: written durably at once, or staged for
/// one [`cache::commit`] of many secrets.
#[derive(Clone)]
pub(crate) enum CacheSink {
    Durable,
    Batch(std::sync::Arc<std::sync::Mutex<Vec<cache::Staged>>>),
}

impl CacheSink {
    pub(super) fn batch() -> CacheSink {
        CacheSink::Batch(Default::default())
    }
}

/// Commits the staged caches of a batch; a secret whose cache could not be
/// written fails (its files are rendered, but it would not survive an outage).
pub(super) async fn commit_batch(
    sink: CacheSink,
    outcomes: &mut [(String, Outcome)],
    state_dir: &Path,
) {
    let CacheSink::Batch(staged) = sink else {
        return;
    };
    let staged = std::mem::take(&mut *staged.lock().expect("cache batch lock"));
    if staged.is_empty() {
        return;
    }
    let failures = tokio::task::spawn_blocking(move || cache::commit(staged))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    for (name, err) in failures {
        if let Some((_, outcome)) = outcomes.iter_mut().find(|(n, _)| *n == name) {
            let err = SecretError::Cache(err);
            record_failure(state_dir, &name, &err);
            *outcome = Outcome::Failed(err);
        }
    }
}

/// Reads one secret from Vault and renders it, or falls back to the cache when
/// Vault is unreachable. The cache is written durably before it returns.
/// Takes the secret's lock for the render (see [`crate::lock`]).
pub(crate) async fn fetch_one(
    client: &VaultClient,
    secret: &SecretSpec,
    state_dir: &Path,
) -> Outcome {
    let locking = Locking::Take(crate::lock::DEFAULT_TIMEOUT);
    fetch_one_with(client, secret, state_dir, CacheSink::Durable, locking).await
}

pub(super) async fn fetch_one_with(
    client: &VaultClient,
    secret: &SecretSpec,
    state_dir: &Path,
    sink: CacheSink,
    locking: Locking,
) -> Outcome {
    let api = kv::data_path(&secret.kv_mount, &secret.secret_path, secret.kv_version);
    match kv::read(
        client,
        &secret.kv_mount,
        &secret.secret_path,
        secret.kv_version,
    )
    .await
    {
        Ok(kv) => {
            write_fresh_with(secret.clone(), kv, state_dir.to_path_buf(), sink, locking).await
        }
        Err(e) if e.serves_cache() => {
            from_cache_with(
                secret.clone(),
                Fallback::of(&e),
                state_dir.to_path_buf(),
                locking,
            )
            .await
        }
        Err(e) => {
            let err = match e {
                VaultError::PermissionDenied { message, .. } => SecretError::Denied {
                    secret: secret.name.clone(),
                    path: api,
                    message,
                },
                VaultError::NotFound { .. } => SecretError::NotFound {
                    secret: secret.name.clone(),
                    path: api,
                },
                source => SecretError::Vault {
                    secret: secret.name.clone(),
                    source,
                },
            };
            record_failure(state_dir, &secret.name, &err);
            Outcome::Failed(err)
        }
    }
}

/// Renders fresh data and then caches it (file writes and fsyncs run on the
/// blocking pool so many secrets proceed in parallel).
/// Takes the secret's lock for the render (see [`crate::lock`]).
pub(super) async fn write_fresh_with(
    secret: SecretSpec,
    kv: KvSecret,
    state_dir: PathBuf,
    sink: CacheSink,
    locking: Locking,
) -> Outcome {
    let job = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let result = under_lock(&secret, &state_dir, locking, || {
            let rendered = render::render(&secret, &kv.data)?;
            let fetched_at = SystemTime::now();
            match &sink {
                CacheSink::Durable => cache::store(&secret, &kv, fetched_at)?,
                CacheSink::Batch(staged) => {
                    let s = cache::stage(&secret, &kv, fetched_at)?;
                    staged.lock().expect("cache batch lock").push(s);
                }
            }
            let now = crate::clock::now_unix();
            let st = state::SecretRecord {
                last_fetch: Some(now),
                version: kv.version,
                from_cache_since: None,
                last_error: None,
                // Vault just answered with this data; the cache holds it.
                confirmed: Some(crate::boot_cache::confirmation(
                    &secret,
                    kv.version,
                    crate::clock::unix_secs(fetched_at),
                    now,
                )),
                boot_cache_since: None,
            };
            state::save(&state_dir, &secret.name, &st);
            Ok(rendered)
        });
        tracing::debug!(secret = %secret.name, elapsed_us = started.elapsed().as_micros() as u64, "rendered and cached");
        match result {
            Ok(rendered) => Outcome::Fresh {
                rendered,
                version: kv.version,
            },
            Err(e) => {
                record_failure(&state_dir, &secret.name, &e);
                Outcome::Failed(e)
            }
        }
    });
    job.await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Renders the last-known-good data of a secret, under its lock.
pub(crate) async fn from_cache(
    secret: SecretSpec,
    fallback: Fallback,
    state_dir: PathBuf,
) -> Outcome {
    let locking = Locking::Take(crate::lock::DEFAULT_TIMEOUT);
    from_cache_with(secret, fallback, state_dir, locking).await
}

pub(super) async fn from_cache_with(
    secret: SecretSpec,
    fallback: Fallback,
    state_dir: PathBuf,
    locking: Locking,
) -> Outcome {
    let job = tokio::task::spawn_blocking(move || {
        let mut outcome = None;
        let locked = under_lock(&secret, &state_dir, locking, || {
            outcome = Some(from_cache_locked(&secret, fallback, &state_dir));
            Ok(())
        });
        match locked {
            Ok(()) => outcome.expect("set under the lock"),
            Err(e) => Outcome::Failed(e),
        }
    });
    job.await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

pub(super) fn from_cache_locked(
    secret: &SecretSpec,
    fallback: Fallback,
    state_dir: &Path,
) -> Outcome {
    let Fallback { reason, code } = fallback;
    let secret = secret.clone();
    let state_dir = state_dir.to_path_buf();
    {
        let entry = match cache::load(&secret) {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                let e = SecretError::UnreachableNoCache {
                    secret: secret.name.clone(),
                    reason,
                    cache: secret.cache_dir.clone(),
                    code,
                };
                record_failure(&state_dir, &secret.name, &e);
                return Outcome::Failed(e);
            }
            Err(e) => return Outcome::Failed(e.into()),
        };
        match render::render(&secret, &entry.data) {
            Ok(rendered) => {
                let mut st = state::load(&state_dir, &secret.name);
                st.from_cache_since.get_or_insert(crate::clock::now_unix());
                st.last_error = Some(reason.clone());
                state::save(&state_dir, &secret.name, &st);
                Outcome::FromCache {
                    rendered,
                    age: entry.age(SystemTime::now()),
                    reason,
                }
            }
            Err(e) => Outcome::Failed(e.into()),
        }
    }
}
