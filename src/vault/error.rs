//! What can go wrong talking to Vault, sorted by what the caller must do about it.

/// Callers react differently to each variant: unreachable → serve from the cache;
/// denied / not found → tell the operator which path and policy; malformed → a bug
/// or a proxy in the way. Messages never contain secret values: Vault's own error
/// strings are included (they never carry tokens or data), response bodies are not.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("Vault at {addr} is unreachable: {reason}")]
    Unreachable { addr: String, reason: String },
    #[error("Vault denied {path}: {message}")]
    PermissionDenied { path: String, message: String },
    #[error("{path} does not exist in Vault")]
    NotFound { path: String },
    #[error("Vault rejected the request to {path}: {message}")]
    BadRequest { path: String, message: String },
    #[error("Vault's answer to {path} is malformed: {detail}")]
    Malformed { path: String, detail: String },
    #[error("cannot set up the Vault client: {0}")]
    Config(String),
}

impl VaultError {
    /// True when the failure says nothing about our request, only that Vault cannot
    /// answer now (connection refused, timeout, 5xx, sealed, rate-limited).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, VaultError::Unreachable { .. })
    }
}
