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

pub use boot::run_boot;
pub(crate) use credentials::read_secret_file;
pub use credentials::{read_credentials, Credentials, CredentialsError};
pub use locking::render_cached;
pub use outcome::{Fallback, FetchError, Outcome, Report, SecretError};
pub use read::{login, CONCURRENCY};
pub use write::{fetch_one, from_cache, CacheSink};

use crate::spec::{SecretSpec, Spec};
use crate::vault::VaultClient;
use std::time::Duration;

/// `vaultkeeper fetch`: renders every selected secret; see [`Report::exit_code`].
pub async fn run(spec: &Spec, secrets: &[&SecretSpec]) -> Result<Report, FetchError> {
    run_with(spec, secrets, crate::lock::DEFAULT_TIMEOUT).await
}

/// [`run`], waiting at most `lock_timeout` for each secret another writer holds.
pub async fn run_with(
    spec: &Spec,
    secrets: &[&SecretSpec],
    lock_timeout: Duration,
) -> Result<Report, FetchError> {
    let client = VaultClient::new(&spec.vault).map_err(FetchError::Client)?;
    read::read_all(spec, &client, secrets, lock_timeout).await
}
