//! Vault reads shared by the insights commands: without a token, a whole LIST
//! answer, a `data` object, and "not assessed" in words.

use crate::vault::{Auth, VaultClient, VaultError};
use reqwest::Method;
use serde_json::Value;

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
