//! [`field`]: a typed view of one field of a Vault answer, whose errors never
//! quote the values.

use super::error::VaultError;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes a typed view of `value[field]`; errors never quote the values.
pub(crate) fn field<T: DeserializeOwned>(
    value: &Value,
    pointer: &str,
    path: &str,
) -> Result<T, VaultError> {
    let v = value.pointer(pointer).cloned().unwrap_or(Value::Null);
    serde_json::from_value(v).map_err(|e| VaultError::Malformed {
        path: path.to_string(),
        detail: format!(
            "{pointer} is missing or of the wrong type ({:?})",
            e.classify()
        ),
    })
}
