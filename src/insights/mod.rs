//! Insights for operators: `status`, `posture`, `version-check`, `report leases`,
//! `report usage` and the daemon's Slack digest.
//!
//! Every command reads only (see `docs/policies/insights.hcl` for the exact
//! policy). A read the token may not do becomes "not assessed" with the reason,
//! never a failure of the whole command. The token is `VAULT_TOKEN`/`BAO_TOKEN`
//! when set (an operator at a terminal), else the host's AppRole from the spec.
//!
//! - [`status`]: server, audit devices, mounts, this token, per-secret state.
//! - [`posture`]: a 0–100 score from weighted checks, each with evidence and fix.
//! - [`version`]: the server's version against a GitHub-releases-shaped feed.
//! - [`leases`] and [`usage`]: the two reports.
//! - [`digest`]: the Block Kit payloads the daemon sends (digest, sealed alert).
//! - [`output`]: human rendering (JSON is the serde form of each report).
//! - [`cli`]: the subcommands' arguments and their edge.

pub mod agent;
pub mod cli;
pub mod digest;
pub mod leases;
pub mod output;
pub mod posture;
pub mod status;
pub mod usage;
pub mod version;

use crate::exit;
use crate::fetch::{self, CredentialsError};
use crate::secret::Secret;
use crate::spec::Spec;
use crate::vault::approle::LoginError;
use crate::vault::{Auth, VaultClient, VaultError};
use reqwest::Method;
use serde_json::Value;

/// Why an insights command could not run at all (anything smaller is "not assessed").
#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
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
    pub fn exit_code(&self) -> u8 {
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

/// Where the token came from (shown in `status`). Serialized as `"environment"`
/// or `"appRole"` (docs/reference/insights-json.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `BAO_TOKEN` or `VAULT_TOKEN`: the variable's name.
    Environment(&'static str),
    /// The host's AppRole credentials from the spec.
    AppRole,
}

impl TokenSource {
    /// For people: the variable's name, or "AppRole".
    pub fn label(&self) -> &'static str {
        match self {
            TokenSource::Environment(var) => var,
            TokenSource::AppRole => "AppRole",
        }
    }
}

impl serde::Serialize for TokenSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            TokenSource::Environment(_) => "environment",
            TokenSource::AppRole => "appRole",
        })
    }
}

/// The operator's token from the environment (`BAO_TOKEN` wins, as in `bao`).
pub fn env_token(env: &impl Fn(&str) -> Option<String>) -> Option<Secret> {
    env_token_named(env).map(|(t, _)| t)
}

/// The operator's token and the variable it came from (`BAO_TOKEN` wins).
pub fn env_token_named(env: &impl Fn(&str) -> Option<String>) -> Option<(Secret, &'static str)> {
    ["BAO_TOKEN", "VAULT_TOKEN"].into_iter().find_map(|var| {
        env(var)
            .filter(|t| !t.trim().is_empty())
            .map(|t| (Secret::new(t.trim()), var))
    })
}

/// Checks that the token from `var` is one Vault knows (auth/token/lookup-self,
/// which the default policy allows): a wrong or expired token is said as such
/// (exit 3) before anything is changed. Vault answers an unknown token and a
/// token without the default policy alike (403), so the message names both.
pub async fn check_env_token(client: &VaultClient, var: &'static str) -> Result<(), InsightsError> {
    match client.read("auth/token/lookup-self").await {
        Ok(_) => Ok(()),
        Err(VaultError::PermissionDenied { message, .. }) => Err(InsightsError::TokenRejected {
            var,
            addr: client.addr().to_string(),
            message: crate::report::text::vault_message(&message),
        }),
        Err(e) => Err(e.into()),
    }
}

/// A client carrying the insights token: the environment's, else an AppRole login.
pub async fn authenticate(
    client: &VaultClient,
    spec: &Spec,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(VaultClient, TokenSource), InsightsError> {
    if let Some((t, var)) = env_token_named(env) {
        // Not checked with lookup-self first: a token without the default
        // policy is still one whose other reads can be assessed.
        return Ok((client.with_token(t), TokenSource::Environment(var)));
    }
    let creds = fetch::read_credentials(&spec.approle).map_err(InsightsError::NoToken)?;
    match fetch::login(client, spec, &creds).await {
        Ok(t) => Ok((client.with_token(t.token), TokenSource::AppRole)),
        Err(LoginError::Vault(e)) => Err(e.into()),
        Err(e) => Err(InsightsError::Login(e)),
    }
}

/// Revokes the token [`authenticate`] logged in with (not the environment's).
pub async fn release(authed: &Result<(VaultClient, TokenSource), InsightsError>) {
    if let Ok((c, TokenSource::AppRole)) = authed {
        crate::vault::approle::release(c).await;
    }
}

/// GET without a token (sys/seal-status, sys/leader, sys/health).
pub(crate) async fn read_unauthenticated(
    client: &VaultClient,
    path: &str,
) -> Result<Value, VaultError> {
    client.call(Method::GET, path, None, Auth::None, None).await
}

/// LIST returning the whole answer (`keys` and `key_info`); a missing path is `None`.
pub(crate) async fn list_full(
    client: &VaultClient,
    path: &str,
) -> Result<Option<Value>, VaultError> {
    let method = Method::from_bytes(b"LIST").expect("LIST is a valid method");
    match client.call(method, path, None, Auth::Client, None).await {
        Ok(v) => Ok(Some(v)),
        Err(VaultError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why a read could not be assessed, in words for the report.
pub(crate) fn not_assessed(e: &VaultError) -> String {
    match e {
        VaultError::PermissionDenied { path, .. } => {
            format!("permission denied on {path} (see docs/policies/insights.hcl)")
        }
        other => other.to_string(),
    }
}

/// A value's `data` object, or the value itself (sys/* answers carry both).
pub(crate) fn data(v: &Value) -> &Value {
    match v.get("data") {
        Some(d) if d.is_object() => d,
        _ => v,
    }
}

/// Unix seconds of an RFC 3339 time ("2026-10-26T20:32:27Z", with or without fraction).
pub fn parse_time(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(s.trim_end_matches('Z').split('+').next()?).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// "3d 4h" for a number of seconds (coarse: at most two units).
pub fn human_secs(secs: u64) -> String {
    let units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (u, n) in units {
        if rest >= n && parts.len() < 2 {
            parts.push(format!("{}{u}", rest / n));
            rest %= n;
        } else if !parts.is_empty() {
            break;
        }
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

/// RFC 3339 (seconds) for unix seconds.
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

#[cfg(test)]
mod tests;
