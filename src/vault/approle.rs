//! AppRole login and token renewal.

use super::client::{Auth, VaultClient};
use super::error::VaultError;
use super::field::field;
use crate::secret::Secret;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// A token from a login or renewal. The token itself never leaves memory.
#[derive(Debug, Clone)]
pub(crate) struct AuthToken {
    pub token: Secret,
    pub lease_duration: Duration,
    pub renewable: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    #[error("AppRole login at auth/{mount}/login was rejected: {message}")]
    Rejected { mount: String, message: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl LoginError {
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, LoginError::Vault(e) if e.is_unreachable())
    }

    /// Vault cannot be reached or cannot be trusted now: the cache answers.
    pub(crate) fn serves_cache(&self) -> bool {
        matches!(self, LoginError::Vault(e) if e.serves_cache())
    }
}

fn auth_token(resp: &serde_json::Value, path: &str) -> Result<AuthToken, VaultError> {
    Ok(AuthToken {
        token: Secret::new(field::<String>(resp, "/auth/client_token", path)?),
        lease_duration: Duration::from_secs(field::<u64>(resp, "/auth/lease_duration", path)?),
        renewable: field::<Option<bool>>(resp, "/auth/renewable", path)?.unwrap_or(false),
    })
}

/// POST auth/<mount>/login with role_id and secret_id.
pub(crate) async fn login(
    client: &VaultClient,
    mount: &str,
    role_id: &Secret,
    secret_id: &Secret,
) -> Result<AuthToken, LoginError> {
    let path = format!("auth/{mount}/login");
    let body = json!({ "role_id": role_id.expose(), "secret_id": secret_id.expose() });
    match client
        .call(Method::POST, &path, Some(&body), Auth::None, None)
        .await
    {
        Ok(resp) => Ok(auth_token(&resp, &path)?),
        Err(VaultError::BadRequest { message, .. })
        | Err(VaultError::PermissionDenied { message, .. }) => Err(LoginError::Rejected {
            mount: mount.to_string(),
            message,
        }),
        Err(VaultError::NotFound { .. }) => Err(LoginError::Rejected {
            mount: mount.to_string(),
            message: format!("no auth method is mounted at auth/{mount}"),
        }),
        Err(e) => Err(e.into()),
    }
}

/// POST auth/token/renew-self with the client's token.
pub(crate) async fn renew_self(client: &VaultClient) -> Result<AuthToken, VaultError> {
    let path = "auth/token/renew-self";
    let resp = client
        .call(Method::POST, path, Some(&json!({})), Auth::Client, None)
        .await?;
    auth_token(&resp, path)
}

/// POST auth/token/revoke-self: the client's token (and its lease) ends now.
pub(crate) async fn revoke_self(client: &VaultClient) -> Result<(), VaultError> {
    client
        .call(
            Method::POST,
            "auth/token/revoke-self",
            Some(&json!({})),
            Auth::Client,
            None,
        )
        .await
        .map(|_| ())
}

/// Revokes the token a command logged in with, before it exits: a token left
/// alive would stay a valid credential (and a lease in Vault's store) for its
/// TTL. A failure is logged, never fatal (the token still expires).
pub(crate) async fn release(client: &VaultClient) {
    if client.token().is_none() {
        return;
    }
    match revoke_self(client).await {
        Ok(()) => tracing::debug!("revoked this run's Vault token"),
        Err(e) => tracing::warn!(
            "cannot revoke this run's Vault token ({e}); it expires at the end of its TTL"
        ),
    }
}

/// The AppRole role a token was issued for: `meta.role_name` of
/// `auth/token/lookup-self` (`None` for a token not made by an AppRole login).
pub(crate) async fn lookup_self_role(client: &VaultClient) -> Result<Option<String>, VaultError> {
    let path = "auth/token/lookup-self";
    let resp = client.read(path).await?;
    field::<Option<String>>(&resp, "/data/meta/role_name", path)
}
