//! The persistent last-known-good cache: one JSON file per secret in its cacheDir
//! (0700 directory, 0600 file, root), written atomically and fsynced after every
//! successful fetch, read when Vault is unreachable.

use crate::render::atomic::{self, FsError};
use crate::spec::{KvVersion, SecretSpec};
use crate::vault::kv::{KvSecret, SecretData};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FILE: &str = "data.json";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache of secret {secret}: {source}")]
    Fs {
        secret: String,
        #[source]
        source: FsError,
    },
    #[error("cache of secret {secret} at {path} is unreadable ({detail}); delete it, the next successful fetch rewrites it")]
    Corrupt {
        secret: String,
        path: PathBuf,
        detail: String,
    },
    #[error(
        "cache of secret {secret} holds {cached}, not {wanted} (the spec changed); it is not used"
    )]
    OtherPath {
        secret: String,
        cached: String,
        wanted: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CacheFile {
    format: u32,
    kv_mount: String,
    secret_path: String,
    kv_version: u8,
    version: Option<u64>,
    /// Unix seconds.
    fetched_at: u64,
    data: BTreeMap<String, serde_json::Value>,
}

/// A cached secret.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    pub fetched_at: SystemTime,
    pub version: Option<u64>,
    pub data: SecretData,
}

impl CacheEntry {
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.fetched_at).unwrap_or_default()
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn store(secret: &SecretSpec, kv: &KvSecret, fetched_at: SystemTime) -> Result<(), CacheError> {
    let fs = |source| CacheError::Fs {
        secret: secret.name.clone(),
        source,
    };
    let dir = atomic::ensure_private_dir(&secret.cache_dir, 0o700).map_err(fs)?;
    let file = CacheFile {
        format: FORMAT,
        kv_mount: secret.kv_mount.clone(),
        secret_path: secret.secret_path.clone(),
        kv_version: match secret.kv_version {
            KvVersion::V1 => 1,
            KvVersion::V2 => 2,
        },
        version: kv.version,
        fetched_at: unix(fetched_at),
        data: kv.data.0.clone(),
    };
    let bytes = serde_json::to_vec(&file).expect("cache file serializes");
    atomic::replace_file(&dir, FILE, &bytes, 0o600, &secret.cache_dir).map_err(fs)
}

/// The cached data, `Ok(None)` when there is none yet.
pub fn load(secret: &SecretSpec) -> Result<Option<CacheEntry>, CacheError> {
    let fs = |source| CacheError::Fs {
        secret: secret.name.clone(),
        source,
    };
    let dir = match atomic::open_dir_nofollow(&secret.cache_dir) {
        Ok(d) => d,
        Err(e) if e.source.raw_os_error() == Some(nix::libc::ENOENT) => return Ok(None),
        Err(e) => return Err(fs(e)),
    };
    let Some(bytes) = atomic::read_file_at(&dir, FILE, &secret.cache_dir).map_err(fs)? else {
        return Ok(None);
    };
    let path = secret.cache_dir.join(FILE);
    // serde's messages could quote a value; report only where the problem is.
    let file: CacheFile = serde_json::from_slice(&bytes).map_err(|e| CacheError::Corrupt {
        secret: secret.name.clone(),
        path: path.clone(),
        detail: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })?;
    if file.format != FORMAT {
        return Err(CacheError::Corrupt {
            secret: secret.name.clone(),
            path,
            detail: format!("format {} is not {FORMAT}", file.format),
        });
    }
    if file.secret_path != secret.secret_path || file.kv_mount != secret.kv_mount {
        return Err(CacheError::OtherPath {
            secret: secret.name.clone(),
            cached: format!("{}/{}", file.kv_mount, file.secret_path),
            wanted: format!("{}/{}", secret.kv_mount, secret.secret_path),
        });
    }
    Ok(Some(CacheEntry {
        fetched_at: UNIX_EPOCH + Duration::from_secs(file.fetched_at),
        version: file.version,
        data: SecretData(file.data),
    }))
}
