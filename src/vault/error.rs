//! What can go wrong talking to Vault, sorted by what the caller must do about it.

use crate::exit;

/// Callers react differently to each variant: unreachable → serve from the cache;
/// denied / not found → tell the operator which path and policy; malformed → a bug
/// or a proxy in the way; TLS, redirect and size refusals → possibly an attack,
/// said as such. Messages never contain secret values: Vault's own error strings
/// are included (they never carry tokens or data), response bodies are not.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VaultError {
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
    #[error("the TLS certificate of Vault at {addr} is NOT TRUSTED ({detail}); this may be an attack (someone between this host and Vault): nothing was sent; if Vault's certificate changed, set vault.caCert to the CA that signed it")]
    TlsUntrusted { addr: String, detail: String },
    #[error("the TLS certificate of Vault at {addr} is not valid for that host name ({detail}); this may be an attack (someone between this host and Vault): nothing was sent; if the address is right, the certificate needs it in its subjectAltName, else fix vault.address")]
    TlsHostname { addr: String, detail: String },
    #[error("REFUSED a redirect from {from} to {to}: {reason}; nothing was sent to {to} (redirects are followed only to the configured Vault addresses, never from https to http, at most 3 times)")]
    RedirectRefused {
        from: String,
        to: String,
        reason: String,
    },
    #[error("Vault's answer to {path} is larger than vault.maxResponseSize ({limit} bytes); it was refused unread; a proxy or server may be misbehaving (raise vault.maxResponseSize only if a secret really is that large)")]
    TooLarge { path: String, limit: u64 },
}

impl VaultError {
    /// True when the failure says nothing about our request, only that Vault cannot
    /// answer now (connection refused, timeout, 5xx, sealed, rate-limited).
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, VaultError::Unreachable { .. })
    }

    /// A certificate that does not verify: may be an attack.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(
            self,
            VaultError::TlsUntrusted { .. } | VaultError::TlsHostname { .. }
        )
    }

    /// Rendering from the last-known-good cache is the right answer: Vault
    /// cannot be reached, or cannot be trusted now (logged as an ERROR).
    pub(crate) fn serves_cache(&self) -> bool {
        self.is_unreachable() || self.is_tls()
    }

    /// The process exit code when this error ends a command (see `crate::exit`).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            VaultError::Unreachable { .. } => exit::UNREACHABLE,
            VaultError::PermissionDenied { .. } => exit::DENIED,
            VaultError::NotFound { .. } => exit::NOT_FOUND,
            // Vault refused values the user gave (a TTL, a CIDR, a name).
            VaultError::BadRequest { .. } => exit::USAGE,
            VaultError::Malformed { .. } => exit::MALFORMED,
            VaultError::Config(_) => exit::USAGE,
            VaultError::TlsUntrusted { .. } => exit::TLS_UNTRUSTED,
            VaultError::TlsHostname { .. } => exit::TLS_HOSTNAME,
            VaultError::RedirectRefused { .. } => exit::REDIRECT_REFUSED,
            VaultError::TooLarge { .. } => exit::RESPONSE_TOO_LARGE,
        }
    }
}
