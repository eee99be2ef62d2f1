//! [`InsightsError`]: why an insights command could not run at all, and its
//! exit code.

use crate::exit;
use crate::fetch::CredentialsError;
use crate::vault::approle::LoginError;
use crate::vault::VaultError;

/// Why an insights command could not run at all (anything smaller is "not assessed").
#[derive(Debug, thiserror::Error)]
pub(crate) enum InsightsError {
    #[error("Vault at {addr} is sealed: unseal it (`bao operator unseal`) and run this again")]
    Sealed { addr: String },
    #[error(
        "no token: set VAULT_TOKEN (or BAO_TOKEN), or give this host AppRole credentials ({0})"
    )]
    NoToken(#[source] CredentialsError),
    #[error("AppRole login failed: {0}; set VAULT_TOKEN to use an operator token instead")]
    Login(#[source] LoginError),
    #[error("Vault at {addr} refused the token in {var} ({message} on auth/token/lookup-self): it is unknown or expired, or lacks the default policy; set {var} to a valid token (`bao token lookup` checks one)")]
    TokenRejected {
        var: &'static str,
        addr: String,
        message: String,
    },
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("cannot read the release feed {url}: {reason}; pass another with --feed URL or set insights.versionFeed")]
    Feed { url: String, reason: String },
}

impl InsightsError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            InsightsError::Sealed { .. } => exit::SEALED,
            InsightsError::NoToken(_)
            | InsightsError::Login(_)
            | InsightsError::TokenRejected { .. } => exit::CREDENTIALS,
            InsightsError::Vault(e) => e.exit_code(),
            InsightsError::Feed { .. } => exit::UNREACHABLE,
        }
    }
}
