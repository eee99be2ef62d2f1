//! Turning a secret's key/value pairs into file names and contents.

use crate::vault::kv::SecretData;
use serde_json::Value;

/// Why a key cannot become a file name. The key is shown with `{:?}` so control
/// characters are visible; key names are not secret values.
pub(crate) fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("an empty key cannot name a file".into());
    }
    if key == "." || key == ".." {
        return Err(format!("key {key:?} would name a directory, not a file"));
    }
    if key.contains('/') {
        return Err(format!(
            "key {key:?} contains '/', which would escape the output directory"
        ));
    }
    if key.contains('\0') {
        return Err(format!("key {key:?} contains a NUL byte"));
    }
    if key.len() > 255 {
        return Err(format!("key {:?}... is longer than 255 bytes", &key[..32]));
    }
    Ok(())
}

/// A value as written to a file (or a template): strings as they are, other
/// values as compact JSON.
pub(crate) fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.clone().into_bytes(),
        other => serde_json::to_vec(other).expect("a JSON value always serializes"),
    }
}

/// The files to write: strings as they are, other values as compact JSON.
/// Fails on the first key that cannot be a file name, before anything is written.
pub(crate) fn files_for(data: &SecretData) -> Result<Vec<(String, Vec<u8>)>, String> {
    data.0
        .iter()
        .map(|(k, v)| {
            check_key(k)?;
            Ok((k.clone(), value_bytes(v)))
        })
        .collect()
}

#[cfg(test)]
mod tests;
