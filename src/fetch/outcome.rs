//! What a fetch produces and how it fails: each secret's [`Outcome`] or
//! [`SecretError`], the [`Report`] with its exit code, the run's
//! [`FetchError`], and the [`Fallback`] that says why the cache answers.

use super::credentials::CredentialsError;
use crate::cache::CacheError;
use crate::exit;
use crate::lock::LockError;
use crate::render::{RenderError, Rendered};
use crate::vault::approle::LoginError;
use crate::vault::VaultError;
use std::path::PathBuf;
use std::time::Duration;

/// One secret's failure, sorted by what the operator must do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SecretError {
    #[error("secret {secret}: Vault denied reading {path}: {message}; grant the host's policy read on it")]
    Denied {
        secret: String,
        path: String,
        message: String,
    },
    #[error("secret {secret}: {path} does not exist in Vault; write it, or fix secretPath/kvMount/kvVersion in the spec")]
    NotFound { secret: String, path: String },
    #[error(
        "secret {secret}: {reason}; and there is no cache at {cache}; the secret was not rendered"
    )]
    UnreachableNoCache {
        secret: String,
        reason: String,
        cache: PathBuf,
        /// The exit code of why Vault could not answer (unreachable, TLS).
        code: u8,
    },
    #[error("secret {secret}: {source}")]
    Vault {
        secret: String,
        #[source]
        source: VaultError,
    },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl SecretError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            SecretError::Denied { .. } => exit::DENIED,
            SecretError::NotFound { .. } => exit::NOT_FOUND,
            SecretError::UnreachableNoCache { code, .. } => *code,
            SecretError::Vault { source, .. } => source.exit_code(),
            SecretError::Render(RenderError::Unsafe { .. }) => exit::USAGE,
            SecretError::Render(_) | SecretError::Cache(_) | SecretError::Lock(_) => exit::RENDER,
        }
    }
}

/// What happened to one secret.
#[derive(Debug)]
pub(crate) enum Outcome {
    Fresh {
        rendered: Rendered,
        version: Option<u64>,
    },
    FromCache {
        rendered: Rendered,
        age: Duration,
        reason: String,
    },
    /// Rendered at boot from the cache Vault confirmed `confirmed_age` ago,
    /// without contacting Vault ([`crate::boot_cache`]).
    BootCache {
        rendered: Rendered,
        version: Option<u64>,
        confirmed_age: Duration,
    },
    Failed(SecretError),
}

#[derive(Debug)]
pub(crate) struct Report {
    pub outcomes: Vec<(String, Outcome)>,
}

impl Report {
    /// 0 when every secret was rendered (fresh or from the cache), else the code
    /// of the first failing secret in name order.
    pub(crate) fn exit_code(&self) -> u8 {
        self.outcomes
            .iter()
            .find_map(|(_, o)| match o {
                Outcome::Failed(e) => Some(e.exit_code()),
                _ => None,
            })
            .unwrap_or(exit::OK)
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("{source}; check the role-id in {role_id_file} and the secret-id in {secret_id_file} (an expired secret-id needs `vaultkeeper provision --host NAME` and a new bootstrap)")]
    LoginRejected {
        #[source]
        source: LoginError,
        role_id_file: PathBuf,
        secret_id_file: PathBuf,
    },
    #[error(transparent)]
    Client(VaultError),
    /// The login was answered with something that is neither a token nor a
    /// rejection (a refused redirect, an oversized answer, a malformed one).
    #[error("AppRole login failed: {0}")]
    Login(VaultError),
}

impl FetchError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            FetchError::Credentials(_) | FetchError::LoginRejected { .. } => exit::CREDENTIALS,
            FetchError::Client(e) | FetchError::Login(e) => e.exit_code(),
        }
    }
}

/// Why secrets come from the cache this run: the message and its exit code.
#[derive(Debug, Clone)]
pub(crate) struct Fallback {
    pub reason: String,
    pub code: u8,
}

impl Fallback {
    /// For a Vault error that [`VaultError::serves_cache`]; a TLS failure is
    /// logged as an ERROR (it may be an attack), once, here.
    pub(crate) fn of(e: &VaultError) -> Fallback {
        if e.is_tls() {
            tracing::error!("{e}; serving the last-known-good cache where there is one");
        }
        Fallback {
            reason: e.to_string(),
            code: e.exit_code(),
        }
    }
}
