//! `vaultkeeper fetch`: one AppRole login, every selected secret read
//! concurrently, rendered atomically and cached; the cache answers when Vault
//! cannot.
//!
//! - [`credentials`]: the AppRole role-id and secret-id files;
//! - [`read`]: login, concurrent reads, batch cache commit ([`run_with`]);
//! - [`boot`]: `fetch --boot`, rendering recently confirmed caches without Vault;
//! - [`write`]: one secret read and rendered, or rendered from its cache;
//! - [`locking`]: one writer per secret;
//! - [`outcome`]: outcomes, the report and the errors.

mod boot;
mod credentials;
mod locking;
mod outcome;
mod read;
mod write;

pub(crate) use boot::run_boot;
pub(crate) use credentials::read_secret_file;
pub(crate) use credentials::{read_credentials, Credentials, CredentialsError};
pub(crate) use locking::render_cached;
pub(crate) use outcome::{Fallback, FetchError, Outcome, Report, SecretError};
pub(crate) use read::{login, CONCURRENCY};
pub(crate) use write::{fetch_one, from_cache};

use crate::spec::{SecretSpec, Spec};
use crate::vault::VaultClient;
use std::time::Duration;

/// [`run`], waiting at most `lock_timeout` for each secret another writer holds.
pub(crate) async fn run_with(
    spec: &Spec,
    secrets: &[&SecretSpec],
    lock_timeout: Duration,
) -> Result<Report, FetchError> {
    let client = VaultClient::new(&spec.vault).map_err(FetchError::Client)?;
    read::read_all(spec, &client, secrets, lock_timeout).await
}
