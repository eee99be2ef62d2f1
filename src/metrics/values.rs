//! The values the rest of the crate reports: the token's expiry, the audit
//! listener's totals, a Vault request's outcome, a restart's skip reason.

use std::collections::BTreeMap;

/// The token as the daemon holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenExpiry {
    /// No token (never logged in, or the login fails).
    #[default]
    None,
    /// A token without expiry (a root-like token; AppRole tokens always expire).
    Never,
    /// Expires at this Unix second.
    At(u64),
}

/// The audit listener's cumulative counters, as its snapshot reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTotals {
    /// Lines read from audit devices.
    pub lines_read: u64,
    /// Entries the rules evaluated.
    pub entries: u64,
    /// Audit device connections open now.
    pub open_connections: u64,
    /// Dropped lines by reason (`too_long`, `overload`, ...).
    pub dropped: BTreeMap<String, u64>,
    /// Alerts by rule.
    pub alerts: BTreeMap<String, u64>,
}

/// Outcome label of a Vault request (`vaultkeeper_vault_requests_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Success,
    /// 4xx other than 429: denied, not found, bad request (Vault answered).
    ClientError,
    /// 429 (a standby or rate limit).
    RateLimited,
    /// 503 (sealed or standby).
    Unavailable,
    /// Other 5xx.
    ServerError,
    /// 3xx (a standby's redirect).
    Redirect,
    /// Connection refused, reset, TLS failure, timeout: no HTTP answer.
    ConnectionError,
    /// No answer within `vault.timeout`.
    Timeout,
}

impl Outcome {
    /// The `outcome` label value.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::ClientError => "client_error",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unavailable => "unavailable",
            Outcome::ServerError => "server_error",
            Outcome::Redirect => "redirect",
            Outcome::ConnectionError => "connection_error",
            Outcome::Timeout => "timeout",
        }
    }

    /// The outcome of an HTTP status.
    pub fn of_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::Success,
            300..=399 => Outcome::Redirect,
            429 => Outcome::RateLimited,
            503 => Outcome::Unavailable,
            500..=599 => Outcome::ServerError,
            _ => Outcome::ClientError,
        }
    }
}

/// Why a restart was not done (`vaultkeeper_restarts_skipped_total`).
pub(crate) const SKIP_CRITICAL: &str = "critical";
