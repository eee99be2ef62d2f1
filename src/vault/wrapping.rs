//! Response wrapping: look up, unwrap and wrap single-use tokens.

use super::client::{Auth, VaultClient};
use super::error::VaultError;
use super::field::field;
use crate::secret::Secret;
use reqwest::Method;
use serde_json::{json, Value};

/// What `sys/wrapping/lookup` tells about a wrapping token without using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WrapInfo {
    pub creation_path: String,
    pub creation_time: String,
    pub creation_ttl: u64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum WrapError {
    /// Vault answers the same for a used and an expired token.
    #[error("Vault says the wrapping token is not valid: {message}")]
    Invalid { message: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

fn invalid_or(e: VaultError) -> WrapError {
    match e {
        VaultError::BadRequest { message, .. }
            if message.contains("wrapping token is not valid") =>
        {
            WrapError::Invalid { message }
        }
        e => WrapError::Vault(e),
    }
}

pub(crate) async fn lookup(client: &VaultClient, token: &Secret) -> Result<WrapInfo, WrapError> {
    let path = "sys/wrapping/lookup";
    let body = json!({ "token": token.expose() });
    let resp = client
        .call(Method::POST, path, Some(&body), Auth::None, None)
        .await
        .map_err(invalid_or)?;
    Ok(WrapInfo {
        creation_path: field(&resp, "/data/creation_path", path)?,
        creation_time: field(&resp, "/data/creation_time", path)?,
        creation_ttl: field(&resp, "/data/creation_ttl", path)?,
    })
}

/// Unwraps (and so consumes) the token; returns the wrapped response's `data`.
pub(crate) async fn unwrap(client: &VaultClient, token: &Secret) -> Result<Value, WrapError> {
    let path = "sys/wrapping/unwrap";
    let resp = client
        .call(
            Method::POST,
            path,
            Some(&json!({})),
            Auth::Token(token),
            None,
        )
        .await
        .map_err(invalid_or)?;
    Ok(resp.get("data").cloned().unwrap_or(Value::Null))
}

/// Wraps `data` with `sys/wrapping/wrap` for `ttl` (e.g. "24h"); returns the token.
pub(crate) async fn wrap(
    client: &VaultClient,
    data: &Value,
    ttl: &str,
) -> Result<Secret, VaultError> {
    let path = "sys/wrapping/wrap";
    let resp = client
        .call(Method::POST, path, Some(data), Auth::Client, Some(ttl))
        .await?;
    Ok(Secret::new(field::<String>(
        &resp,
        "/wrap_info/token",
        path,
    )?))
}

/// Wrapping a secret-id at `auth/<mount>/role/<role>/secret-id` gives this path.
pub(crate) fn is_expected_creation_path(creation_path: &str, approle_mount: &str) -> bool {
    if creation_path == "sys/wrapping/wrap" {
        return true;
    }
    let prefix = format!("auth/{approle_mount}/role/");
    match creation_path.strip_prefix(&prefix) {
        Some(rest) => match rest.split_once('/') {
            Some((role, "secret-id")) => !role.is_empty(),
            _ => false,
        },
        None => false,
    }
}

#[cfg(test)]
mod tests;
