//! Reading the KV secrets engine, version 1 and 2.

use super::client::VaultClient;
use super::error::VaultError;
use super::field::field;
use crate::spec::KvVersion;
use serde_json::Value;
use std::collections::BTreeMap;

/// One secret's key/value pairs. `Debug` shows the keys, never the values.
#[derive(Clone, PartialEq, Default)]
pub struct SecretData(pub BTreeMap<String, Value>);

impl std::fmt::Debug for SecretData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SecretData(keys: {:?})",
            self.0.keys().collect::<Vec<_>>()
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct KvSecret {
    pub data: SecretData,
    /// KV v2 version number; `None` for KV v1.
    pub version: Option<u64>,
}

/// The API path of a secret: `<mount>/data/<path>` for v2, `<mount>/<path>` for v1.
pub(crate) fn data_path(mount: &str, path: &str, version: KvVersion) -> String {
    match version {
        KvVersion::V2 => format!("{mount}/data/{path}"),
        KvVersion::V1 => format!("{mount}/{path}"),
    }
}

pub(crate) async fn read(
    client: &VaultClient,
    mount: &str,
    path: &str,
    version: KvVersion,
) -> Result<KvSecret, VaultError> {
    let api = data_path(mount, path, version);
    let resp = client.read(&api).await?;
    match version {
        KvVersion::V1 => Ok(KvSecret {
            data: SecretData(field(&resp, "/data", &api)?),
            version: None,
        }),
        KvVersion::V2 => {
            // A deleted or destroyed latest version answers 404 with data.data = null.
            if resp.pointer("/data/data").is_none_or(Value::is_null) {
                return Err(VaultError::NotFound { path: api });
            }
            Ok(KvSecret {
                data: SecretData(field(&resp, "/data/data", &api)?),
                version: field(&resp, "/data/metadata/version", &api)?,
            })
        }
    }
}

/// KV v2 `current_version` from the metadata endpoint: the cheap change check.
pub(crate) async fn current_version(
    client: &VaultClient,
    mount: &str,
    path: &str,
) -> Result<u64, VaultError> {
    let api = format!("{mount}/metadata/{path}");
    let resp = client.read(&api).await?;
    field(&resp, "/data/current_version", &api)
}
