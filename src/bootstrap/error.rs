//! [`BootstrapError`]: every way bootstrap can fail, each saying what to do,
//! and its exit code.

use crate::exit;
use crate::fs;
use crate::vault::VaultError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum BootstrapError {
    #[error("no wrapped token: neither the environment variable {env} nor the file {file} holds one; put the token from `vaultkeeper provision --host NAME` there (cloud-init writes VAULT_WRAPPED_TOKEN to /etc/environment)")]
    NoToken { env: String, file: String },
    #[error("the wrapped-token file {path} is refused: {reason}")]
    TokenFile { path: PathBuf, reason: String },
    #[error("the wrapped token was ALREADY USED (unwrapped by someone else, or by an earlier bootstrap that did not finish); if this host did not use it, treat it as stolen and check the audit log; re-provision this host with `vaultkeeper provision --host NAME` and redeploy the new token")]
    AlreadyUsed,
    #[error("the wrapped token EXPIRED at {expired_at} (it lived {ttl}s); re-provision this host with `vaultkeeper provision --host NAME` (raise --wrap-ttl if hosts take longer to boot) and redeploy the new token")]
    Expired { expired_at: String, ttl: u64 },
    #[error("the wrapped token is not valid: it was already used or has expired (Vault does not say which, and this host never saw it valid); re-provision this host with `vaultkeeper provision --host NAME` and redeploy the new token; if it should have been unused, check the audit log for who unwrapped it")]
    UsedOrExpired,
    #[error("Vault at {addr} is UNREACHABLE ({reason}); the host boots without AppRole credentials and bootstrap runs again at the next boot (or `systemctl start vaultkeeper-bootstrap`) while the token is valid")]
    Unreachable { addr: String, reason: String },
    #[error("REFUSING the wrapped token: it was created at {creation_path:?}, not by sys/wrapping/wrap or an AppRole secret-id of auth/{mount}; someone may have swapped it; it was NOT unwrapped; provision a new token with `vaultkeeper provision --host NAME`")]
    ForeignCreationPath {
        creation_path: String,
        mount: String,
    },
    #[error("the wrapped token holds only a secret-id, but there is no role-id at {path}; write the role's role-id there first (the token was NOT unwrapped and can still be used)")]
    RoleIdMissing { path: PathBuf },
    #[error("the unwrapped response holds no {missing}; the token was consumed; provision a new one with `vaultkeeper provision --host NAME`")]
    UnexpectedShape { missing: &'static str },
    #[error("REFUSING the wrapped credentials: they log in as AppRole role {got:?}, and this host must be {expected:?} (approle.roleName, default the host name); someone may have wrapped another role's credentials to make this host use them; nothing was stored and the test login's token was revoked; provision this host with `vaultkeeper provision --host {expected}`")]
    WrongRole { expected: String, got: String },
    #[error("cannot verify which AppRole role the unwrapped credentials belong to ({reason}); nothing was stored (the wrapping token is spent); provision this host again with `vaultkeeper provision --host NAME`")]
    CannotVerify { reason: String, code: u8 },
    #[error("cannot store the AppRole credentials: {0}")]
    Store(#[from] fs::FsError),
    #[error(transparent)]
    Vault(VaultError),
}

impl BootstrapError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            BootstrapError::AlreadyUsed => exit::TOKEN_USED,
            BootstrapError::Expired { .. } => exit::TOKEN_EXPIRED,
            BootstrapError::UsedOrExpired
            | BootstrapError::NoToken { .. }
            | BootstrapError::TokenFile { .. } => exit::TOKEN_MISSING,
            BootstrapError::ForeignCreationPath { .. } => exit::TOKEN_FOREIGN,
            BootstrapError::Unreachable { .. } => exit::UNREACHABLE,
            BootstrapError::RoleIdMissing { .. } => exit::CREDENTIALS,
            BootstrapError::WrongRole { .. } => exit::TOKEN_WRONG_ROLE,
            BootstrapError::CannotVerify { code, .. } => *code,
            BootstrapError::UnexpectedShape { .. } => exit::MALFORMED,
            BootstrapError::Store(_) => exit::RENDER,
            BootstrapError::Vault(e) => e.exit_code(),
        }
    }
}
